package setkey

import "fmt"

// tokKind is the class of a token of the setkey language.
type tokKind int

const (
	tEOF    tokKind = iota
	tWord           // [A-Za-z0-9:][A-Za-z0-9:%.-]* that is not a number, or [0-9,]+
	tNum            // decimal digits
	tHex            // 0x followed by hex digits
	tQuoted         // "text" (no escapes, may span lines)
	tFlag           // -X, -lh, -ctx, -46n ...
	tSemi           // ;
	tSlash          // /
	tLBrack         // [
	tRBrack         // ]
	// policy (-P) mode only
	tHyphen // -
	tPlus   // +
	tPort   // [digits] inside a policy
)

func (k tokKind) String() string {
	switch k {
	case tEOF:
		return "end of file"
	case tWord:
		return "word"
	case tNum:
		return "number"
	case tHex:
		return "hex string"
	case tQuoted:
		return "quoted string"
	case tFlag:
		return "option"
	case tSemi:
		return "';'"
	case tSlash:
		return "'/'"
	case tLBrack:
		return "'['"
	case tRBrack:
		return "']'"
	case tHyphen:
		return "'-'"
	case tPlus:
		return "'+'"
	case tPort:
		return "[port]"
	}
	return fmt.Sprintf("token(%d)", int(k))
}

type token struct {
	kind tokKind
	text string // the token as written; for tQuoted the text between the quotes; for tPort the digits
	pos  Pos
}

func (t token) describe() string {
	switch t.kind {
	case tEOF, tSemi, tSlash, tLBrack, tRBrack, tHyphen, tPlus:
		return t.kind.String()
	case tQuoted:
		return "quoted string"
	case tPort:
		return fmt.Sprintf("%q", "["+t.text+"]")
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer splits a setkey script into tokens. It has two modes, as setkey's own
// lexer: the statement mode and the policy mode entered after -P, where the
// tokens of libipsec's policy language are recognised up to the next ';'.
type lexer struct {
	src  string
	file string
	off  int
	line int
	col  int
}

func newLexer(file, src string) *lexer {
	return &lexer{src: src, file: file, line: 1, col: 1}
}

func (l *lexer) pos() Pos { return Pos{File: l.file, Line: l.line, Col: l.col} }

func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off++
	}
}

// skipSpace skips blanks, newlines and '#' comments.
func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.advance(1)
		case c == '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		default:
			return
		}
	}
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }
func isHex(c byte) bool    { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// wordChar is the continuation class of setkey's STRING token.
func wordChar(c byte) bool { return isAlnum(c) || c == ':' || c == '%' || c == '.' || c == '-' }

// next returns the next token in statement mode.
func (l *lexer) next() (token, error) {
	l.skipSpace()
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p}, nil
	}
	c := l.src[l.off]
	simple := func(k tokKind) (token, error) {
		l.advance(1)
		return token{kind: k, text: string(c), pos: p}, nil
	}
	switch {
	case c == ';':
		return simple(tSemi)
	case c == '/':
		return simple(tSlash)
	case c == '[':
		return simple(tLBrack)
	case c == ']':
		return simple(tRBrack)
	case c == '"':
		end := l.off + 1
		for end < len(l.src) && l.src[end] != '"' {
			end++
		}
		if end >= len(l.src) {
			return token{}, errorf(p, "unterminated quoted string")
		}
		text := l.src[l.off+1 : end]
		l.advance(end + 1 - l.off)
		return token{kind: tQuoted, text: text, pos: p}, nil
	case c == '-':
		end := l.off + 1
		for end < len(l.src) && isAlnum(l.src[end]) {
			end++
		}
		if end == l.off+1 {
			return token{}, errorf(p, "syntax error: unexpected '-'")
		}
		text := l.src[l.off:end]
		l.advance(end - l.off)
		return token{kind: tFlag, text: text, pos: p}, nil
	case isAlnum(c) || c == ':' || c == ',':
		// Longest match between STRING [A-Za-z0-9:][A-Za-z0-9:%.-]* and [0-9,]+.
		w := 0
		if c != ',' {
			w = 1
			for l.off+w < len(l.src) && wordChar(l.src[l.off+w]) {
				w++
			}
		}
		n := 0
		for l.off+n < len(l.src) && (isDigit(l.src[l.off+n]) || l.src[l.off+n] == ',') {
			n++
		}
		if n > w {
			text := l.src[l.off : l.off+n]
			l.advance(n)
			return token{kind: tWord, text: text, pos: p}, nil
		}
		text := l.src[l.off : l.off+w]
		l.advance(w)
		return token{kind: classifyWord(text), text: text, pos: p}, nil
	}
	if c < 0x20 || c >= 0x7f {
		return token{}, errorf(p, "syntax error: unexpected character %q", rune(c))
	}
	return token{}, errorf(p, "syntax error: unexpected %q", string(c))
}

func classifyWord(s string) tokKind {
	allDigits := true
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			allDigits = false
			break
		}
	}
	if allDigits {
		return tNum
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		for i := 2; i < len(s); i++ {
			if !isHex(s[i]) {
				return tWord
			}
		}
		return tHex
	}
	return tWord
}

// policyWordChar is libipsec's ipaddress class [a-zA-Z0-9:._].
func policyWordChar(c byte) bool { return isAlnum(c) || c == ':' || c == '.' || c == '_' }

// nextPolicy returns the next token in policy mode (after -P, up to ';').
func (l *lexer) nextPolicy() (token, error) {
	l.skipSpace()
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p}, nil
	}
	c := l.src[l.off]
	simple := func(k tokKind) (token, error) {
		l.advance(1)
		return token{kind: k, text: string(c), pos: p}, nil
	}
	switch {
	case c == ';':
		return simple(tSemi)
	case c == '/':
		return simple(tSlash)
	case c == '-':
		return simple(tHyphen)
	case c == '+':
		return simple(tPlus)
	case c == '[':
		end := l.off + 1
		for end < len(l.src) && isDigit(l.src[end]) {
			end++
		}
		if end == l.off+1 || end >= len(l.src) || l.src[end] != ']' {
			return token{}, errorf(p, "syntax error in policy: a port is written [digits]")
		}
		text := l.src[l.off+1 : end]
		l.advance(end + 1 - l.off)
		return token{kind: tPort, text: text, pos: p}, nil
	case policyWordChar(c):
		end := l.off + 1
		for end < len(l.src) && policyWordChar(l.src[end]) {
			end++
		}
		if end < len(l.src) && l.src[end] == '%' {
			z := end + 1
			for z < len(l.src) && isAlnum(l.src[z]) {
				z++
			}
			if z > end+1 {
				end = z
			}
		}
		text := l.src[l.off:end]
		l.advance(end - l.off)
		k := tWord
		if classifyWord(text) == tNum {
			k = tNum
		}
		return token{kind: k, text: text, pos: p}, nil
	}
	if c < 0x20 || c >= 0x7f {
		return token{}, errorf(p, "syntax error in policy: unexpected character %q", rune(c))
	}
	return token{}, errorf(p, "syntax error in policy: unexpected %q", string(c))
}
