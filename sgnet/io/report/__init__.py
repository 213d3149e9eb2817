"""`sgnet report`: one self-contained HTML page for a lab and a matrix run (io: pure
rendering; the CLI writes the file).

The page has three parts, all inline (CSS and SVG, no script, no external resource):

- a header: lab name, provider, address family and the matrix summary;
- the topology, an inline SVG (`<svg id="topology">`): each VPC a box with its CIDRs,
  each subnet a box inside it, each instance a node inside the subnet of its primary ENI
  with its address and its groups as colour chips; a secondary ENI is a small node in its
  own subnet, joined to its instance by a dashed line; externals stand outside, joined to
  each VPC's gateway. A legend of the groups, with their rules, follows the picture;
- the reachability grid: for each protocol/port a `<table class="matrix">`, rows the
  sources, columns the destinations, each `<td class="cell ...">` coloured by what the
  kernel did (allow green, deny grey), framed in orange with a "!" where that differs from
  the provider's rules, with the expected and observed verdicts and the deciding rule in
  its `title` (shown on hover). The mismatches are listed again below the grids.

One module per part: `style` (fonts, text widths, group colours), `topology` (the SVG),
`groups` (the legend), `matrix` (the grids), `page` (the document and its CSS).
`page.render(lab, matrix)` is the entry point, pure: same input, same page. The matrix is
the dict of `LabSession.matrix()` (contract §3): {"lab", "results": [records], "summary"}.
"""
