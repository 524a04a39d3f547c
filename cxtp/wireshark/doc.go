// Package wireshark ships the Wireshark Lua dissector for CXTP
// (cxtp.lua): ICMPv6 type 150 subtype 1, UDP and SCTP port 5091. Load it
// with
//
//	tshark -X lua_script:cxtp/wireshark/cxtp.lua -r FILE -V
//
// or copy it into Wireshark's personal plugin folder. The test in this
// package writes a capture holding every CXTP message type and checks that
// Debian's tshark decodes each one with its fields.
package wireshark

import _ "embed"

// Dissector is the text of cxtp.lua, for tools that install it.
//
//go:embed cxtp.lua
var Dissector []byte
