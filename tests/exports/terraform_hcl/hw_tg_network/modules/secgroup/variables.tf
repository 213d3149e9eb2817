variable "secgroup_name" {
  
}

variable "secgroup_desc" {
  
}