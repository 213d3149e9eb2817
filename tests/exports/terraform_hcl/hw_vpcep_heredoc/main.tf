variable "gateway_service_id" {}
variable "vpc_id" {}
variable "network_id" {}

resource "huaweicloud_vpcep_endpoint" "test" {
  service_id  = var.gateway_service_id
  vpc_id      = var.vpc_id
  network_id  = var.network_id
  description = "test description"

  policy_document = <<EOF
  {
    "Version": "5.0",
    "Statement": [
      {
        "Action": [
          "*"
        ],
        "Resource": [
          "*"
        ],
        "Effect": "Allow",
        "Principal": "*"
      }
    ]
  }
  EOF
}
