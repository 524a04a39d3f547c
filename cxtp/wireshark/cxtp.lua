-- cxtp.lua: Wireshark dissector for the Context Transfer Protocol
-- (CXTP, RFC 4067) as implemented by ikectx (package cxtp).
--
-- Carried over
--   * ICMPv6 type 150 (experimental mobility), code 0, subtype 1, between
--     the mobile node and an access router; Wireshark has no ICMPv6
--     sub-dissector table, so this script wraps the ICMPv6 dissector in
--     the "ip.proto" table: ICMPv6 is dissected as before and, for type 150
--     subtype 1, the CXTP message after the 8-octet ICMPv6 header is added;
--   * UDP port 5091 and SCTP port 5091 between access routers.
--
-- Use:   tshark -X lua_script:cxtp/wireshark/cxtp.lua -r FILE -V
--   or copy it to ~/.local/lib/wireshark/plugins/ (Wireshark >= 3.x).
-- Running as root: Debian's /usr/share/wireshark/init.lua sets
-- run_user_scripts_when_superuser = true, so -X lua_script works as root;
-- if a build sets it to false, run tshark as an unprivileged user.
--
-- Key material: the token key of a PCTD is shown only as its length unless
-- the preference cxtp.show_key is set (tshark -o cxtp.show_key:TRUE).
--
-- Message layouts: RFC 4067 section 2 (checked field by field; see the Go
-- package cxtp, doc.go and one file per message). Header: Vers(3)=1 |
-- Type(5) | V A/S flags(8) | Length(16). CTAR and CT-Req request contexts
-- with 4-octet header-only CDBs (FPT | Length 0 | P=0 | Reserved); the
-- PCTD's Algorithm and Key Length are 16-bit fields.

local CXTP_PORT = 5091
local ICMPV6_TYPE = 150
local ICMPV6_SUBTYPE = 1

local cxtp = Proto("cxtp", "Context Transfer Protocol")

local msg_types = {
    [1] = "CTAR (Context Transfer Activate Request)",
    [2] = "CTAA (Context Transfer Activate Acknowledge)",
    [3] = "CTD (Context Transfer Data)",
    [4] = "PCTD (Predictive Context Transfer Data)",
    [5] = "CTDR (Context Transfer Data Reply)",
    [6] = "CTC (Context Transfer Cancel)",
    [7] = "CT-Req (Context Transfer Request)",
}
local short_names = { "CTAR", "CTAA", "CTD", "PCTD", "CTDR", "CTC", "CT-Req" }

local statuses = {
    [0x00] = "Success",
    [0x01] = "BAD_CHECKSUM",
    [0x80] = "Undefined error",
    [0x81] = "Authorization failed",
    [0x82] = "Unsupported FPT",
    [0x83] = "Incorrectly formatted message",
    [0x84] = "No context",
    [0x85] = "Context expired",
    [0x86] = "Context installation failed",
    [0x87] = "Insufficient resources",
}

local fpt_names = {
    [0x0000] = "All",
    [0x0001] = "IPv6 Multicast Listener Context",
    [0x8001] = "IPsec SA (ikectx)",
    [0x8002] = "IPsec policy (ikectx)",
    [0x8003] = "IKEv1 SA (ikectx)",
    [0x8004] = "IKEv2 SA (ikectx)",
    [0x80ff] = "Generic (ikectx)",
}

local pf = {
    version   = ProtoField.uint8("cxtp.version", "Version", base.DEC, nil, 0xe0),
    type      = ProtoField.uint8("cxtp.type", "Type", base.DEC, msg_types, 0x1f),
    flags     = ProtoField.uint8("cxtp.flags", "Flags", base.HEX),
    flag_v    = ProtoField.bool("cxtp.flags.v", "V (IPv4 addresses)", 8, nil, 0x80),
    flag_a    = ProtoField.bool("cxtp.flags.a", "A (acknowledgement requested)", 8, nil, 0x40),
    flag_s    = ProtoField.bool("cxtp.flags.s", "S (all contexts succeeded)", 8, nil, 0x40),
    length    = ProtoField.uint16("cxtp.length", "Length", base.DEC),
    prev_coa  = ProtoField.ipv6("cxtp.prev_coa", "MN previous care-of address"),
    prev_coa4 = ProtoField.ipv4("cxtp.prev_coa4", "MN previous care-of address"),
    prev_ar   = ProtoField.ipv6("cxtp.prev_ar", "Previous (or new) access router"),
    prev_ar4  = ProtoField.ipv4("cxtp.prev_ar4", "Previous (or new) access router"),
    seq       = ProtoField.uint32("cxtp.seq", "Sequence number", base.DEC),
    token     = ProtoField.bytes("cxtp.token", "MN authorization token"),
    req       = ProtoField.none("cxtp.req", "Requested Context Data Block"),
    req_fpt   = ProtoField.uint16("cxtp.req_fpt", "Requested FPT", base.HEX, fpt_names),
    req_len   = ProtoField.uint8("cxtp.req_len", "Length (8-octet words)", base.DEC),
    req_p     = ProtoField.bool("cxtp.req_p", "P (presence vector)", 8, nil, 0x80),
    elapsed   = ProtoField.uint32("cxtp.elapsed", "Elapsed time (ms)", base.DEC),
    alg       = ProtoField.uint16("cxtp.alg", "Algorithm", base.DEC, { [1] = "HMAC_SHA1" }),
    key_len   = ProtoField.uint16("cxtp.key_len", "Key length", base.DEC),
    key       = ProtoField.bytes("cxtp.key", "Key"),
    key_pad   = ProtoField.bytes("cxtp.key_pad", "Key padding"),
    status    = ProtoField.none("cxtp.status", "FPT status"),
    st_fpt    = ProtoField.uint16("cxtp.status.fpt", "FPT", base.HEX, fpt_names),
    st_code   = ProtoField.uint8("cxtp.status.code", "Status code", base.HEX, statuses),
    cdb       = ProtoField.none("cxtp.cdb", "Context Data Block"),
    cdb_fpt   = ProtoField.uint16("cxtp.cdb.fpt", "FPT", base.HEX, fpt_names),
    cdb_len   = ProtoField.uint8("cxtp.cdb.len", "Length (8-octet words)", base.DEC),
    cdb_p     = ProtoField.bool("cxtp.cdb.p", "P (presence vector)", 8, nil, 0x80),
    cdb_pv    = ProtoField.uint32("cxtp.cdb.presence", "Presence vector", base.HEX),
    cdb_data  = ProtoField.bytes("cxtp.cdb.data", "Data"),
}
local fields = {}
for _, f in pairs(pf) do fields[#fields + 1] = f end
cxtp.fields = fields

local ex_malformed = ProtoExpert.new("cxtp.malformed", "Malformed CXTP message",
    expert.group.MALFORMED, expert.severity.ERROR)
cxtp.experts = { ex_malformed }

cxtp.prefs.show_key = Pref.bool("Show key bytes", false,
    "Show the token key carried by PCTD messages (hidden by default)")

local function malformed(tree, tvb, off, text)
    tree:add_proto_expert_info(ex_malformed, text)
    return tvb:len()
end

-- add_addr adds an address of the message's family at off; returns the
-- new offset or nil if truncated.
local function add_addr(tree, tvb, off, v4, f6, f4)
    local n = v4 and 4 or 16
    if tvb:len() < off + n then return nil end
    tree:add(v4 and f4 or f6, tvb(off, n))
    return off + n
end

-- add_requests adds the 4-octet requested CDBs filling the rest of a CTAR
-- or CT-Req; returns the new offset, or nil and the reason.
local function add_requests(tree, tvb, off)
    while off < tvb:len() do
        if tvb:len() - off < 4 then return nil, "requested CDB truncated" end
        local r = tree:add(pf.req, tvb(off, 4))
        r:add(pf.req_fpt, tvb(off, 2))
        r:add(pf.req_len, tvb(off + 2, 1))
        r:add(pf.req_p, tvb(off + 3, 1))
        r:append_text(string.format(": FPT 0x%04x", tvb(off, 2):uint()))
        if tvb(off + 2, 1):uint() ~= 0 or tvb(off + 3, 1):uint() >= 0x80 then
            return nil, "requested CDB is not a 4-octet header-only block"
        end
        off = off + 4
    end
    return off
end

local function add_statuses(tree, tvb, off)
    local rest = tvb:len() - off
    if rest % 4 ~= 0 then return nil end
    local n = 0
    while off < tvb:len() do
        local st = tree:add(pf.status, tvb(off, 4))
        st:add(pf.st_fpt, tvb(off, 2))
        st:add(pf.st_code, tvb(off + 2, 1))
        local code = tvb(off + 2, 1):uint()
        st:append_text(string.format(": FPT 0x%04x %s", tvb(off, 2):uint(),
            statuses[code] or string.format("0x%02x", code)))
        off = off + 4
        n = n + 1
    end
    return off, n
end

local function add_cdbs(tree, tvb, off)
    local i = 0
    while off < tvb:len() do
        if tvb:len() - off < 4 then return nil, "CDB header truncated" end
        local words = tvb(off + 2, 1):uint()
        local n = words * 8
        if words == 0 then return nil, "CDB length zero" end
        if off + n > tvb:len() then return nil, "CDB overruns the message" end
        local c = tree:add(pf.cdb, tvb(off, n))
        c:add(pf.cdb_fpt, tvb(off, 2))
        c:add(pf.cdb_len, tvb(off + 2, 1))
        c:add(pf.cdb_p, tvb(off + 3, 1))
        local d = off + 4
        if tvb(off + 3, 1):uint() >= 0x80 then
            c:add(pf.cdb_pv, tvb(d, 4))
            d = d + 4
        end
        if off + n > d then c:add(pf.cdb_data, tvb(d, off + n - d)) end
        c:append_text(string.format(" %d: FPT 0x%04x, %d octets", i, tvb(off, 2):uint(), n))
        off = off + n
        i = i + 1
    end
    return off
end

-- dissect_message dissects one CXTP message filling tvb.
local function dissect_message(tvb, pinfo, root)
    local len = tvb:len()
    if len == 0 then
        local tree = root:add(cxtp)
        return malformed(tree, tvb, 0, "empty message")
    end
    local tree = root:add(cxtp, tvb())
    if len < 4 then return malformed(tree, tvb, 0, "shorter than the 4-octet header") end
    local b0 = tvb(0, 1):uint()
    local version = math.floor(b0 / 32)
    local mtype = b0 % 32
    local flags = tvb(1, 1):uint()
    local v4 = flags >= 0x80
    local second = math.floor(flags / 64) % 2 == 1

    tree:add(pf.version, tvb(0, 1))
    tree:add(pf.type, tvb(0, 1))
    local ft = tree:add(pf.flags, tvb(1, 1))
    ft:add(pf.flag_v, tvb(1, 1))
    if mtype == 1 or mtype == 3 or mtype == 4 then ft:add(pf.flag_a, tvb(1, 1)) end
    if mtype == 5 then ft:add(pf.flag_s, tvb(1, 1)) end
    local lt = tree:add(pf.length, tvb(2, 2))

    local name = short_names[mtype] or string.format("type %d", mtype)
    pinfo.cols.protocol:set("CXTP")
    pinfo.cols.info:set(string.format("%s%s", name, v4 and " (IPv4)" or ""))
    tree:append_text(", " .. name)

    if version ~= 1 then return malformed(tree, tvb, 0, "unsupported version " .. version) end
    if not short_names[mtype] then return malformed(tree, tvb, 0, "unknown message type " .. mtype) end
    if tvb(2, 2):uint() ~= len then
        lt:add_proto_expert_info(ex_malformed, string.format("length field %d, message %d octets", tvb(2, 2):uint(), len))
        return len
    end

    local off = 4
    local bad = "message truncated"
    if mtype == 1 or mtype == 7 then -- CTAR, CT-Req
        off = add_addr(tree, tvb, off, v4, pf.prev_coa, pf.prev_coa4)
        if off and mtype == 1 then off = add_addr(tree, tvb, off, v4, pf.prev_ar, pf.prev_ar4) end
        if off and len >= off + 8 then
            tree:add(pf.seq, tvb(off, 4))
            tree:add(pf.token, tvb(off + 4, 4))
            pinfo.cols.info:append(string.format(" seq=%d", tvb(off, 4):uint()))
            if mtype == 1 and second then pinfo.cols.info:append(" A") end
            local err
            off, err = add_requests(tree, tvb, off + 8)
            if not off then bad = err end
        else
            off = nil
        end
    elseif mtype == 2 or mtype == 5 then -- CTAA, CTDR
        off = add_addr(tree, tvb, off, v4, pf.prev_coa, pf.prev_coa4)
        if off then
            local n
            off, n = add_statuses(tree, tvb, off)
            if not off then
                bad = "FPT status list is not a whole number of 4-octet entries"
            elseif mtype == 2 then
                pinfo.cols.info:append(n == 0 and " all activated" or string.format(" %d failed", n))
            else
                pinfo.cols.info:append(second and " S" or "")
            end
        end
    elseif mtype == 3 or mtype == 4 then -- CTD, PCTD
        if len >= off + 4 then
            tree:add(pf.elapsed, tvb(off, 4))
            off = add_addr(tree, tvb, off + 4, v4, pf.prev_coa, pf.prev_coa4)
        else
            off = nil
        end
        if off and mtype == 4 then
            if len < off + 4 then
                off = nil
            else
                -- Algorithm(16) | Key Length(16) | key padded to 4 octets
                local kl = tvb(off + 2, 2):uint()
                local padded = 4 + math.floor((kl + 3) / 4) * 4
                if len < off + padded then
                    off = nil
                    bad = "key overruns the message"
                else
                    tree:add(pf.alg, tvb(off, 2))
                    tree:add(pf.key_len, tvb(off + 2, 2))
                    if kl > 0 then
                        if cxtp.prefs.show_key then
                            tree:add(pf.key, tvb(off + 4, kl))
                        else
                            tree:add(tvb(off + 4, kl), string.format("Key: %d octets (hidden; set cxtp.show_key to show)", kl))
                        end
                    end
                    if padded > 4 + kl then tree:add(pf.key_pad, tvb(off + 4 + kl, padded - 4 - kl)) end
                    off = off + padded
                end
            end
        end
        if off then
            local err
            off, err = add_cdbs(tree, tvb, off)
            if not off then bad = err end
        end
        if second then pinfo.cols.info:append(" A") end
    elseif mtype == 6 then -- CTC
        off = add_addr(tree, tvb, off, v4, pf.prev_coa, pf.prev_coa4)
        if off and off ~= len then
            off = nil
            bad = "trailing octets"
        end
    end
    if not off then return malformed(tree, tvb, 0, bad) end
    return len
end

function cxtp.dissector(tvb, pinfo, tree)
    return dissect_message(tvb, pinfo, tree)
end

DissectorTable.get("udp.port"):add(CXTP_PORT, cxtp)
DissectorTable.get("sctp.port"):add(CXTP_PORT, cxtp)

-- ICMPv6: wrap the built-in dissector. Wireshark knows type 150 only as
-- "Experimental Mobility" and would read the CXTP message as mobility
-- options, so for type 150 subtype 1 this script dissects the 8-octet
-- ICMPv6 header itself (verifying the checksum over the IPv6 pseudo-header)
-- and hands everything else to the built-in dissector unchanged.
local ip_proto = DissectorTable.get("ip.proto")
local icmpv6 = ip_proto:get_dissector(58)
local cxtp_icmpv6 = Proto("cxtp_icmpv6", "ICMPv6 (CXTP)")

local checksum_status = { [0] = "Bad", [1] = "Good", [2] = "Unverified" }
local hf = {
    type     = ProtoField.uint8("cxtp_icmpv6.type", "Type", base.DEC, { [150] = "Experimental Mobility" }),
    code     = ProtoField.uint8("cxtp_icmpv6.code", "Code", base.DEC),
    checksum = ProtoField.uint16("cxtp_icmpv6.checksum", "Checksum", base.HEX),
    cstatus  = ProtoField.uint8("cxtp_icmpv6.checksum.status", "Checksum Status", base.DEC, checksum_status),
    subtype  = ProtoField.uint8("cxtp_icmpv6.subtype", "Subtype", base.DEC, { [1] = "Context Transfer Protocol" }),
    reserved = ProtoField.uint24("cxtp_icmpv6.reserved", "Reserved", base.HEX),
}
cxtp_icmpv6.fields = { hf.type, hf.code, hf.checksum, hf.cstatus, hf.subtype, hf.reserved }
local ex_checksum = ProtoExpert.new("cxtp_icmpv6.bad_checksum", "Bad ICMPv6 checksum",
    expert.group.CHECKSUM, expert.severity.WARN)
cxtp_icmpv6.experts = { ex_checksum }

local f_ip6_src = Field.new("ipv6.src")
local f_ip6_dst = Field.new("ipv6.dst")

local function last(...)
    local t = { ... }
    return t[#t]
end

-- icmpv6_checksum computes the ICMPv6 checksum of tvb (checksum field taken
-- as zero) with the pseudo-header of the innermost IPv6 header, or nil if
-- the addresses are not available.
local function icmpv6_checksum(tvb)
    local src, dst = last(f_ip6_src()), last(f_ip6_dst())
    if not src or not dst then return nil end
    local sum = 0
    local function add_bytes(ba)
        for i = 0, ba:len() - 1, 2 do
            local hi = ba:get_index(i)
            local lo = (i + 1 < ba:len()) and ba:get_index(i + 1) or 0
            sum = sum + hi * 256 + lo
        end
    end
    add_bytes(src.range:bytes())
    add_bytes(dst.range:bytes())
    local n = tvb:reported_length_remaining()
    sum = sum + math.floor(n / 65536) + (n % 65536) + 58
    local body = tvb:bytes()
    body:set_index(2, 0)
    body:set_index(3, 0)
    add_bytes(body)
    while sum > 0xffff do
        sum = math.floor(sum / 65536) + (sum % 65536)
    end
    return 0xffff - sum
end

function cxtp_icmpv6.dissector(tvb, pinfo, tree)
    local is_cxtp = tvb:len() >= 8 and tvb(0, 1):uint() == ICMPV6_TYPE and tvb(1, 1):uint() == 0
        and tvb(4, 1):uint() == ICMPV6_SUBTYPE
    if not is_cxtp then
        if icmpv6 then return icmpv6:call(tvb, pinfo, tree) end
        return 0
    end
    pinfo.cols.protocol:set("ICMPv6")
    local t = tree:add(cxtp_icmpv6, tvb(0, 8))
    t:add(hf.type, tvb(0, 1))
    t:add(hf.code, tvb(1, 1))
    local ct = t:add(hf.checksum, tvb(2, 2))
    local want = nil
    if tvb:len() == tvb:reported_len() then want = icmpv6_checksum(tvb) end
    if want == nil then
        t:add(hf.cstatus, tvb(2, 2), 2):set_generated()
    elseif want == tvb(2, 2):uint() then
        ct:append_text(" correct")
        t:add(hf.cstatus, tvb(2, 2), 1):set_generated()
    else
        ct:append_text(string.format(" incorrect, should be 0x%04x", want))
        t:add(hf.cstatus, tvb(2, 2), 0):set_generated()
        ct:add_proto_expert_info(ex_checksum, string.format("Bad checksum [should be 0x%04x]", want))
    end
    t:add(hf.subtype, tvb(4, 1))
    t:add(hf.reserved, tvb(5, 3))
    if tvb:len() > 8 then
        dissect_message(tvb(8):tvb(), pinfo, tree)
    else
        malformed(tree:add(cxtp), tvb, 0, "ICMPv6 CXTP message without CXTP octets")
    end
    return tvb:len()
end

ip_proto:add(58, cxtp_icmpv6)
