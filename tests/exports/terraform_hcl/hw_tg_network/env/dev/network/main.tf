provider "huaweicloud" {
  region = var.region

}