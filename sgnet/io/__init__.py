"""Files in and out: lab files (labfile), cloud exports (importers/), the HTML report
(report/), JUnit XML and the terminal progress line. Reads and writes files, never the
kernel; the parsing itself is the core's."""
