variable "vpc_name" {
}

variable "vpc_cidr" {
  
}
variable "subnet_name" {
  
}

variable "subnet_cidr" {
  
}

variable "availability_zone" {
  
}

variable "subnet_gateway_ip" {
  
}

