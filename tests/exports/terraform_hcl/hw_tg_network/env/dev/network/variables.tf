variable "region" {
  type    = string
  default = "cn-north-1"
}