# Hand-written (not a real file): heredoc with an indented closing marker, for_each, a
# local module, tfvars and -var, an undeclared group, a data source, a computed count.
variable "env" {}
variable "base_cidr" {
  default = "10.20.0.0/16"
}
variable "open_ports" {
  type    = list(string)
  default = ["22"]
}
variable "sg_id" {}

locals {
  name = format("%s-web", var.env)
}

data "alicloud_zones" "z" {}

resource "alicloud_vpc" "v" {
  vpc_name   = "${var.env}-vpc"
  cidr_block = var.base_cidr
}

resource "alicloud_vswitch" "s" {
  count        = 2
  vswitch_name = "${var.env}-sw-${count.index}"
  vpc_id       = alicloud_vpc.v.id
  cidr_block   = cidrsubnet(alicloud_vpc.v.cidr_block, 8, count.index + 1)
  zone_id      = data.alicloud_zones.z.zones[0].id
}

resource "alicloud_security_group" "web" {
  security_group_name = local.name
  vpc_id              = alicloud_vpc.v.id
  description         = <<-EOT
    web tier of ${var.env}
    managed by terraform
    EOT
}

resource "alicloud_security_group_rule" "in" {
  for_each          = toset(var.open_ports)
  type              = "ingress"
  ip_protocol       = "tcp"
  port_range        = "${each.value}/${each.value}"
  priority          = 10
  cidr_ip           = "0.0.0.0/0"
  security_group_id = alicloud_security_group.web.id
}

resource "alicloud_security_group_rule" "outside" {
  type              = "ingress"
  ip_protocol       = "tcp"
  port_range        = "443/443"
  cidr_ip           = "10.0.0.0/8"
  security_group_id = var.sg_id
}

resource "alicloud_security_group_rule" "zones" {
  count             = length(data.alicloud_zones.z.zones)
  type              = "ingress"
  ip_protocol       = "udp"
  port_range        = "53/53"
  cidr_ip           = "10.0.0.0/8"
  security_group_id = alicloud_security_group.web.id
}

module "db" {
  source = "./modules/db"
  vpc_id = alicloud_vpc.v.id
  web_sg = alicloud_security_group.web.id
}

resource "alicloud_instance" "app" {
  count           = 2
  instance_name   = "app-${count.index}"
  vswitch_id      = alicloud_vswitch.s[count.index].id
  private_ip      = cidrhost(alicloud_vswitch.s[count.index].cidr_block, 10)
  security_groups = [alicloud_security_group.web.id, module.db.sg_id]
}
