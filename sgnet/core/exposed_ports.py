"""The ports attackers look for: services that a rule must not open to every address (pure data).

`sgnet lint` names each of these that an inbound allow rule opens to 0.0.0.0/0 or ::/0. Every
entry says why, and where the list comes from:

- Alibaba Cloud, VPC "Common scenarios" (ports commonly used by ECS instances):
  https://www.alibabacloud.com/help/en/vpc/user-guide/common-scenarios - FTP 21, SSH 22,
  Telnet 23, SMTP 25, POP3 110, IMAP 143, SQL Server 1433 (TCP) and 1434 (UDP), Oracle 1521,
  MySQL 3306, RDP 3389.
- Alibaba Cloud, ECS "Security group guidelines and use cases":
  https://www.alibabacloud.com/help/doc-detail/51170.htm - open only what a public service
  needs; keep MySQL, Redis and the like on instances without public access.
- Alibaba Cloud Firewall, "Check security group rules":
  https://www.alibabacloud.com/help/en/cloud-firewall/cloudfirewall/user-guide/check-security-group-rules
  - port 22, 3389 and DB2 50000 open to any address are risks it reports.
- Huawei Cloud ECS, "ECS常用端口" / "Common Ports Used by ECSs" (quoted at
  https://support.huaweicloud.com/topic/823452-4-D): 137 and 138 UDP carry NetBIOS file
  transfer, 139 NetBIOS/SMB; carriers treat TCP 42 135 137 138 139 444 445 593 1025 ... 1434
  ... 5900 ... as high-risk and block them. Of that list, the ports of a service an instance
  runs are here (135, 137-139, 445, 1434, 5900); the worm-era rest (42, 444, 593, 1025, ...)
  is not: no lab instance serves them.
- KICS (Checkmarx/kics, assets/libraries/common.rego, commit f8c34f90e5cc, tcpPortsMap; its
  CloudFormation library's udpPortsMap), the list behind its alicloud rule "Public Security
  Group Rule Sensitive Port" (assets/queries/terraform/alicloud/
  public_security_group_rule_sensitive_port): FTP 20-21, Telnet 23, DNS 53, MSRPC 135, NetBIOS
  137-139, SNMP 161, LDAP 389/636, SMB 445, MSSQL 1433-1434, Oracle 1521-1522 and 2483-2484,
  Docker 2375-2376, SaltStack 4505-4506, VNC 5500/5900, Kibana 5601, WinRM 5985, Redis 6379,
  Cassandra 7000-7001/7199/9042/9160, HDFS 8020/50070/50470, Puppet 8140, Elasticsearch
  9200/9300, Memcached 11211, MongoDB 27017-27018; UDP: DNS 53, NetBIOS 137-139, SNMP 161,
  LDAP 389, MSSQL Browser 1434, Memcached 11211.
- AWS Config "restricted-common-ports" (the same idea on another cloud: its defaults block
  TCP 20, 21, 3389, 3306 to 0.0.0.0/0 and ::/0):
  https://docs.aws.amazon.com/config/latest/developerguide/restricted-common-ports.html
- Kubernetes, "Ports and Protocols" (6443 API server, 2379-2380 etcd, 10250 kubelet):
  https://kubernetes.io/docs/reference/networking/ports-and-protocols/
- Docker, "Protect the Docker daemon socket" (2375 unencrypted, 2376 TLS; whoever reaches the
  API controls the host): https://docs.docker.com/engine/security/protect-access/
- Elasticsearch, "Networking" (http.port defaults to 9200-9300, transport.port to 9300-9400;
  "Never expose an unprotected node to the public internet"):
  https://www.elastic.co/guide/en/elasticsearch/reference/current/modules-network.html

Severity: `error` for what should never face the Internet (remote administration, databases
and caches, Windows file sharing, cluster control planes, directories); `warning` for what a
public server of that kind must open (SMTP on a mail relay, DNS on a name server), where the
finding asks to make sure.
"""

from __future__ import annotations

from dataclasses import dataclass

TCP, UDP = 6, 17
PROTOCOL_NAMES = {TCP: "tcp", UDP: "udp"}

# The categories, in the order lint names them.
CATEGORIES = ("administrative", "database or cache", "file transfer or sharing",
              "cluster control", "directory", "network service", "mail")


@dataclass(frozen=True)
class ExposedPort:
    protocols: tuple  # of TCP, UDP
    first: int
    last: int
    service: str
    category: str  # one of CATEGORIES
    severity: str  # error | warning
    reason: str

    def label(self, protocols=None) -> str:
        """'SSH (tcp/22)', 'NetBIOS (tcp,udp/137-139)': the service and the protocols given
        (by default its own) with its ports."""
        names = ",".join(PROTOCOL_NAMES[p] for p in (protocols or self.protocols))
        ports = str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        return f"{self.service} ({names}/{ports})"


def _e(protocols, ports, service, category, severity, reason) -> ExposedPort:
    first, _, last = str(ports).partition("-")
    return ExposedPort(protocols, int(first), int(last or first), service, category,
                       severity, reason)


T, U, TU = (TCP,), (UDP,), (TCP, UDP)
ADMIN, DATA, SHARE, CLUSTER = "administrative", "database or cache", \
    "file transfer or sharing", "cluster control"

EXPOSED_PORTS = (
    # -- remote administration: brute-forced around the clock -----------------------------
    _e(T, 22, "SSH", ADMIN, "error", "remote login; brute-forced from the whole Internet"),
    _e(T, 23, "Telnet", ADMIN, "error", "remote login in cleartext"),
    _e(TU, 3389, "RDP", ADMIN, "error", "Windows remote desktop; brute-forced, wormable "
       "vulnerabilities"),
    _e(T, 5500, "VNC listener", ADMIN, "error", "reverse VNC remote control"),
    _e(T, 5900, "VNC", ADMIN, "error", "remote desktop, often weak or no password; "
       "blocked by carriers (Huawei's high-risk ports)"),
    _e(T, "5985-5986", "WinRM", ADMIN, "error", "Windows remote management (PowerShell)"),
    _e(T, "4505-4506", "SaltStack", ADMIN, "error", "configuration master: remote command "
       "execution on every minion (exploited in the wild)"),
    _e(T, 8140, "Puppet", ADMIN, "error", "configuration master"),
    # -- databases and caches: the data itself -----------------------------------------------
    _e(T, 1433, "SQL Server", DATA, "error", "database"),
    _e(TU, 1434, "SQL Server Browser", DATA, "error", "database discovery; the UDP port of "
       "SQL Server (Slammer worm), blocked by carriers"),
    _e(T, "1521-1522", "Oracle", DATA, "error", "database listener"),
    _e(T, "2483-2484", "Oracle", DATA, "error", "database listener (TLS)"),
    _e(T, 3306, "MySQL", DATA, "error", "database"),
    _e(T, 5432, "PostgreSQL", DATA, "error", "database"),
    _e(T, 5984, "CouchDB", DATA, "error", "database with an HTTP API"),
    _e(T, 5601, "Kibana", DATA, "error", "the Elasticsearch data behind a web UI"),
    _e(T, 6379, "Redis", DATA, "error", "cache, no authentication by default"),
    _e(T, "7000-7001", "Cassandra", DATA, "error", "database internode traffic"),
    _e(T, 7199, "Cassandra JMX", DATA, "error", "database monitoring and control"),
    _e(T, 9042, "Cassandra", DATA, "error", "database client port"),
    _e(T, 9160, "Cassandra Thrift", DATA, "error", "database client port (legacy)"),
    _e(T, "9200-9300", "Elasticsearch", DATA, "error", "search engine HTTP API (the range "
       "it binds by default), no authentication in older releases"),
    _e(T, "9301-9400", "Elasticsearch transport", DATA, "error", "node-to-node traffic (the "
       "rest of its default range, 9300 being in the HTTP range above)"),
    _e(TU, 11211, "Memcached", DATA, "error", "cache, no authentication; UDP is a DDoS "
       "amplifier"),
    _e(T, "27017-27018", "MongoDB", DATA, "error", "database, no authentication in older "
       "releases"),
    _e(T, 50000, "DB2", DATA, "error", "database (Alibaba Cloud Firewall's check)"),
    _e(T, 8020, "HDFS NameNode", DATA, "error", "Hadoop file system metadata"),
    _e(T, 50070, "HDFS NameNode web UI", DATA, "error", "Hadoop file system, browsable"),
    _e(T, 50470, "HDFS NameNode web UI", DATA, "error", "Hadoop file system, browsable (TLS)"),
    # -- file transfer and Windows sharing -----------------------------------------------------
    _e(T, "20-21", "FTP", SHARE, "error", "file transfer, credentials in cleartext"),
    _e(TU, 135, "MS RPC", SHARE, "error", "Windows RPC endpoint mapper; blocked by carriers"),
    _e(TU, "137-139", "NetBIOS", SHARE, "error", "Windows name, datagram and session "
       "services; blocked by carriers"),
    _e(T, 445, "SMB", SHARE, "error", "Windows file sharing (WannaCry); blocked by carriers"),
    # -- cluster control planes: whoever reaches them controls the hosts ---------------------
    _e(T, "2375-2376", "Docker", CLUSTER, "error", "Docker Engine API: root on the host"),
    _e(T, "2379-2380", "etcd", CLUSTER, "error", "the Kubernetes cluster's state, secrets "
       "included"),
    _e(T, 6443, "Kubernetes API", CLUSTER, "error", "cluster control plane"),
    _e(T, 10250, "kubelet", CLUSTER, "error", "runs commands in the node's containers"),
    # -- directories -------------------------------------------------------------------------
    _e(TU, 389, "LDAP", "directory", "error", "directory of users; CLDAP (UDP) is a DDoS "
       "amplifier"),
    _e(T, 636, "LDAPS", "directory", "error", "directory of users (TLS)"),
    # -- network services: legitimate on the right server, abused elsewhere --------------------
    _e(U, 161, "SNMP", "network service", "error", "device management, community strings; "
       "a DDoS amplifier"),
    _e(TU, 53, "DNS", "network service", "warning", "a public name server needs it; an open "
       "resolver is a DDoS amplifier"),
    # -- mail: a mail server needs these -----------------------------------------------------
    _e(T, 25, "SMTP", "mail", "warning", "a mail server needs it; anywhere else an open "
       "relay risk"),
    _e(T, 110, "POP3", "mail", "warning", "mail retrieval, credentials in cleartext"),
    _e(T, 143, "IMAP", "mail", "warning", "mail retrieval, credentials in cleartext"),
)


def hits(protocol, ports) -> list:
    """(entry, protocols hit) of every entry that a rule of `protocol` (None: every protocol)
    and `ports` (None: every port; else ((lo, hi), ...)) opens at least one port of, in port
    order."""
    out = []
    for e in sorted(EXPOSED_PORTS, key=lambda e: (e.first, e.last, e.service)):
        protocols = e.protocols if protocol is None else \
            tuple(p for p in e.protocols if p == protocol)
        if protocols and (ports is None or any(lo <= e.last and e.first <= hi
                                               for lo, hi in ports)):
            out.append((e, protocols))
    return out
