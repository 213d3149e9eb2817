variable "group_name" {}
variable "security_group_id" {}

resource "huaweicloud_vpc_address_group" "test" {
  name = var.group_name

  addresses = [
    "192.168.10.12",
    "192.168.11.0-192.168.11.240",
  ]
}

resource "huaweicloud_networking_secgroup_rule" "test" {
  security_group_id       = var.security_group_id
  direction               = "ingress"
  action                  = "allow"
  ethertype               = "IPv4"
  ports                   = "80,500,600-800"
  protocol                = "tcp"
  priority                = 5
  remote_address_group_id = huaweicloud_vpc_address_group.test.id
}
