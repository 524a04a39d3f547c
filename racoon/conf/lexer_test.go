package conf

import "testing"

// TestLexerTies checks flex's rules: the longest match wins, and between
// matches of equal length the rule written first in cftoken.l.
func TestLexerTies(t *testing.T) {
	type tok struct {
		k    tokKind
		text string
	}
	for _, c := range []struct {
		state lexState
		src   string
		want  []tok
	}{
		{sINI, "10sec", []tok{{tNUMBER, "10"}, {tUNITTYPE_SEC, "sec"}}},
		{sINI, "0660", []tok{{tNUMBER, "0660"}}}, // decstring precedes addrstring: decimal, not octal
		{sINI, "10.0.0.1", []tok{{tADDRSTRING, "10.0.0.1"}}},
		{sINI, "dead cafe a", []tok{{tADDRSTRING, "dead"}, {tADDRSTRING, "cafe"}, {tADDRSTRING, "a"}}},
		{sINI, "deflate 3des des", []tok{{tALGORITHMTYPE, "deflate"}, {tALGORITHMTYPE, "3des"}, {tALGORITHMTYPE, "des"}}},
		{sINI, "B KB", []tok{{tUNITTYPE_BYTE, "B"}, {tUNITTYPE_KBYTES, "KB"}}}, // unit rule precedes addrstring
		{sINI, "fe80::1%eth0", []tok{{tADDRSTRING, "fe80::1%eth0"}}},
		{sINI, "0x0a1", []tok{{tHEXSTRING, "0x0a1"}}},
		{sINI, "/24 /1234", []tok{{tPREFIX, "/24"}, {tPREFIX, "/123"}, {tNUMBER, "4"}}},
		{sINI, "[500] -10.0.0.9", []tok{{tPORT, "[500]"}, {tADDRRANGE, "-10.0.0.9"}}},
		{sINI, `"a b # c"`, []tok{{tQUOTEDSTRING, `"a b # c"`}}},
		{sINI, "on off onoff", []tok{{tSWITCH, "on"}, {tSWITCH, "off"}, {tSWITCH, "on"}, {tSWITCH, "off"}}},
		{sINI, "= (x) ;", []tok{{tEOS, ";"}}}, // junk glued to blanks vanishes with them
		{sINI, "(address", []tok{{tIDENTIFIERTYPE, "(address"}}},
		{sSAINF, "[any] any anonymous", []tok{{tPORTANY, "[any]"}, {tANY, "any"}, {tANONYMOUS, "anonymous"}}},
		{sRMTS, "main, aggressive", []tok{{tEXCHANGETYPE, "main"}, {tEXCHANGETYPE, "aggressive"}}},
		{sRMTS, "lifetime byte", []tok{{tLIFETIME, "lifetime"}, {tLIFETYPE_BYTE, "byte"}}}, // state rule precedes the unit
		{sINI, "byte", []tok{{tUNITTYPE_BYTE, "byte"}}},
		// a keyword outside its state: hex-letter fragments become ADDRSTRING, carrying the swallowed letters
		{sINI, "exchange_mode", []tok{{tADDRSTRING, "e"}, {tADDRSTRING, "xc"}, {tADDRSTRING, "ha"}, {tADDRSTRING, "nge"}, {tADDRSTRING, "_mode"}}},
	} {
		l := newLexer("t", []byte(c.src))
		st := c.state
		var got []tok
		for {
			tk := l.next(&st)
			if tk.kind == tEOF {
				break
			}
			got = append(got, tok{tk.kind, tk.text})
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %v, want %v", c.src, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: got %v, want %v", c.src, got, c.want)
				break
			}
		}
	}
}

func TestLexerValues(t *testing.T) {
	st := sINI
	l := newLexer("t", []byte("x\"abc\" \"abc\" x[80] 4294967296 99999999999999999999999"))
	if tk := l.next(&st); tk.kind != tQUOTEDSTRING || tk.str != "" {
		t.Errorf("junk before a string: %+v", tk) // racoon keeps junk[1:], here empty
	}
	if tk := l.next(&st); tk.str != "abc" {
		t.Errorf("%+v", tk)
	}
	if tk := l.next(&st); tk.kind != tPORT || tk.num != 0 {
		t.Errorf("junk before a port: %+v", tk) // atoi("[80") == 0
	}
	if tk := l.next(&st); tk.num != 4294967296 {
		t.Errorf("%+v", tk)
	}
	if tk := l.next(&st); tk.num != ^uint64(0) {
		t.Errorf("strtoul saturates: %+v", tk)
	}
	// positions count lines and columns
	l = newLexer("t", []byte("log\n  notify;"))
	st = sINI
	l.next(&st)
	if tk := l.next(&st); tk.pos.Line != 2 || tk.pos.Col != 3 {
		t.Errorf("position %v", tk.pos)
	}
}
