package ipsecmod
