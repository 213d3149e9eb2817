"""Exported cloud configurations -> a lab file (`sgnet import`; io: reads the export files,
pure otherwise).

The package: `files.import_files` is the entry point, `KINDS` (here, importing nothing)
the kinds it reads; `export` reads a file into typed nodes (bounded JSON, `ExportError`);
one module per format turns its records into the neutral form (`alibaba`, `huawei`, and
`terraform` with its providers `terraform_alicloud`, `terraform_huaweicloud`; the API
network listings: `alibaba_topology`, `huawei_topology`, and `api_topology`, which infers
the subnets and VPCs they do not describe); `normaliser`
is the one place every format goes through: it normalises each rule and builds the lab
file's data.

Sources (`kind`):

- ``alibaba``: ECS ``DescribeSecurityGroupAttribute`` responses (one group and its rules each;
  one file per group, or a JSON list of responses), optionally a ``DescribeSecurityGroups``
  response or the bare list of its ``SecurityGroup`` records (group type, managed flag, and
  the groups that have no attribute file); the network: ``DescribeInstances``,
  ``DescribeNetworkInterfaces`` (each ENI's own groups), ``DescribeVSwitches``,
  ``DescribeVpcs`` (each a response, a list of responses, or the bare list of its records);
- ``huawei``: VPC API v3 ``ListSecurityGroupRules`` / ``ShowSecurityGroupRule`` /
  ``ShowSecurityGroup`` / ``ListSecurityGroups`` (names), and the v2.0 (Neutron style)
  ``security-group-rules`` / ``security-groups`` responses; the network: ECS ``ShowServer``
  / ``ListServersDetails`` (``server``, ``servers``), VPC ``ListSubnets`` / ``ListVpcs``;
- ``terraform``: the JSON of ``terraform show -json`` of a state (``values``) or of a plan
  (``planned_values``; values a plan does not know yet, such as the ids of new resources, are
  followed through the ``configuration`` references), with alicloud or huaweicloud resources.

Each export shape has one reader that turns its records into neutral fields;
``normaliser.Importer.rule`` is the one place that decides what sgnet can represent. Groups
and rules are imported exactly, in the export's order, with ``default_rules: false`` (the
export lists every rule the group has). Instances, subnets and addresses come from the
export where it has them (Terraform, the API network listings: the real instance names,
ENIs, addresses and memberships, a subnet the listings name but do not describe inferred
around its instances' real addresses, warned); otherwise a small lab is generated: one VPC,
one subnet, one instance ``vm-<group>`` per group and an ``internet`` external.

What sgnet cannot represent is reported in ``ImportResult.warnings`` (file, group, rule id,
what and why), never dropped silently. The choices:

- a restriction sgnet has no field for is *lifted* and the rule kept, so it matches more than
  in the cloud: a source port range (Alibaba ``SourcePortRange``), a restriction of the local
  address (Alibaba ``DestCidrIp`` of an ingress rule, ``SourceCidrIp`` of an egress rule), ICMP
  type and code (Huawei v2.0 / Terraform ``port_range_min/max`` of an ICMP rule, Alibaba ICMP
  ``PortRange``), an Alibaba port list (``PortRangeListId``), ports on a protocol other than
  TCP or UDP;
- Alibaba ``NicType: internet`` is kept as an intranet rule (warned): for a VPC group the
  cloud sets NicType to intranet and it cannot be modified (AuthorizeSecurityGroup);
- a port list's empty item (``"22,"``, ``"22,,80"``) is ignored (warned), never read as all
  ports; a port number given as a JSON number (Huawei's ``"multiport": 333``) is that port;
  an Alibaba TCP or UDP rule without ``PortRange`` (the API requires one) is all ports,
  warned;
- a rule that cannot exist in a VPC lab, or that cannot be read, is *dropped*: an unknown
  direction, action,
  ethertype or protocol, a malformed CIDR or port range, a CIDR (or a prefix list's entries)
  of the other family than the rule's ethertype, a Huawei v3 rule with ``enabled: false``
  (it has no effect in the cloud either), a rule whose remote is an Alibaba advanced group
  (the API refuses that too);
- a rule naming both a CIDR and a group (or prefix list) keeps the CIDR: Alibaba documents
  that ``SourceCidrIp`` prevails over ``SourceGroupId``, and the prefix list is ignored when
  either is given; Huawei's fields are mutually exclusive, the same order is used;
- a remote group that is not in the export (another account's, or simply not exported)
  becomes an empty placeholder group named after its id; a prefix list (Alibaba) or address
  group (Huawei) whose entries are not in the export becomes a prefix list with no entries
  named after its id (the rule matches nothing until entries are added): give the list's
  DescribePrefixListAttributes (Alibaba) or ShowAddressGroup / ListAddressGroups (Huawei; a
  range ``a-b`` becomes its CIDRs) response in the same import to have them; a group known only
  from a listing (DescribeSecurityGroups, ListSecurityGroups) is declared with no rules;
- values out of range are brought into it: a priority outside 1-100 (Alibaba's legacy 110)
  is clamped, a CIDR with host bits set becomes its network, ``icmp`` on an IPv6 rule becomes
  ``icmpv6`` and the reverse; an Alibaba rule without an IPv6 field takes the family of its
  prefix list's entries when they are known, else IPv4;
- defaults the export leaves out: an Alibaba group missing from DescribeSecurityGroups is a
  basic group; a Huawei v3 rule without ``action`` allows (Terraform: the provider's
  documented defaults, allow and priority 1); a Huawei group planned by Terraform without
  ``delete_default_rules`` gets Huawei's default rules written out as rules; an advanced
  Alibaba group keeps inner access drop whatever the export says;
- names that are not valid sgnet names, are reserved (``self``) or taken are sanitised or made
  unique (an Alibaba advanced or managed group named ``default`` is renamed: sgnet's
  ``default`` is Alibaba's basic default group);
- the exported network (Terraform) is used where sgnet can build it: an instance address
  outside its subnet, reserved or taken is replaced by the next free one; an instance whose
  subnet is not in the export is placed in the first subnet; an ENI in another VPC than the
  instance's first ENI is left out; an Alibaba instance in basic and advanced groups keeps the
  groups of its first group's type (per ENI); a network sgnet refuses (e.g. a VPC outside the
  private ranges, VPCs that overlap) is replaced by the generated one;
- the API listings: an ENI's further private addresses become that many ``secondary_ips``
  (sgnet chooses their addresses); an ENI attached to no instance, a classic-network
  instance and Huawei floating addresses (EIPs) are left out; a Huawei server's group given
  by name only is the export's group of that name (ambiguous: the first; missing: an empty
  placeholder of that name); a secondary ENI without its DescribeNetworkInterfaces record
  takes the instance's vswitch and groups (each warned).

Bad input. Every field is read through one accessor (`export.Node`) that knows the field's
JSON path and checks its JSON type; a malformed export is refused (`ExportError`, exit 2)
with the file, the path (``Permissions.Permission[3].PortRange``) and the value, cut to a
readable length:

- a field of the wrong JSON type (a list where a string is expected, a string where an object
  is), ``null`` being the same as a missing field; a group or rule list that is not a list; an
  id that the export must have (``SecurityGroupId``, a Huawei group's ``id``) missing or empty;
- JSON nested deeper than `MAX_DEPTH` levels, an integer of more than `MAX_DIGITS` digits,
  ``NaN`` or ``Infinity``, an id, name, address or port field longer than `MAX_TEXT`
  characters;
- Huawei address ranges that expand to more CIDRs than a lab file's prefix list holds
  (checked as they expand: one IPv6 range is up to 254 CIDRs);
- the file itself: unreadable, not UTF-8, not JSON (labfile.read_text: regular files only,
  within the size limit);
- a lab beyond a bound of the lab file (groups, rules per group, ...): the bound is named;
- an API error body saved instead of data (Huawei ``error_code`` / ``error_msg``, Neutron
  ``NeutronError``, Alibaba ``Code`` / ``Message``): said as such, with its code.

A field of the right type whose value sgnet cannot read (an unknown protocol, port range,
direction, CIDR) keeps the choices above: the rule is dropped (or the value replaced) with a
warning. Numbers are ASCII digits (``'٢٢'`` is not 22).

Names from the export are sanitised, never refused: characters a lab file name cannot hold
(anything but letters, digits, ``_ . : -``, including NUL and line breaks) become ``-``, the
name is cut to 64 characters, and a name that ends up empty, reserved or taken becomes
``<name>-<id>``, the id, or a numbered variant (``<id>-2``). Descriptions keep their text with
non-printable characters written as escapes (``\\x00``) and are cut to `MAX_DESCRIPTION`
characters. Warnings are made printable the same way, so that a value of the export can never
start a new line in the lab file's warning comments (where it would be YAML of the export's
choosing). The lab is validated by the lab file parser and its text loaded back to the same
data before it is returned: an import writes a file that `sgnet lint` reads, or refuses.
"""

KINDS = ("alibaba", "huawei", "terraform")  # what `sgnet import --from` reads
