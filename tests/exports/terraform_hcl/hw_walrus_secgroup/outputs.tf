output "id" {
  value = huaweicloud_networking_secgroup.secgroup.id
}