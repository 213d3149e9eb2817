output "this_security_group_id" {
  description = "The id of the security group"
  value       = "${module.example.this_security_group_id}"
}
