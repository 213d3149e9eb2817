variable "vpc_id" {}
variable "web_sg" {}

resource "alicloud_security_group" "this" {
  security_group_name = "db"
  vpc_id              = var.vpc_id
}

resource "alicloud_security_group_rule" "mysql" {
  type                     = "ingress"
  ip_protocol              = "tcp"
  port_range               = "3306/3306"
  source_security_group_id = var.web_sg
  security_group_id        = alicloud_security_group.this.id
}

output "sg_id" {
  value = alicloud_security_group.this.id
}
