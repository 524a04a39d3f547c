package pfkey

// Marshal encodes m in the Native dialect.
func Marshal(m *Message) ([]byte, error) { return Native.Marshal(m) }

// Unmarshal decodes one message in the Native dialect.
func Unmarshal(b []byte) (*Message, error) { return Native.Unmarshal(b) }

// MarshalBinary encodes m in the Native dialect (encoding.BinaryMarshaler).
func (m *Message) MarshalBinary() ([]byte, error) { return Native.Marshal(m) }

// AppendBinary appends m's Native encoding to b (encoding.BinaryAppender).
func (m *Message) AppendBinary(b []byte) ([]byte, error) { return Native.Append(b, m) }

// UnmarshalBinary decodes one Native message into m
// (encoding.BinaryUnmarshaler).
func (m *Message) UnmarshalBinary(b []byte) error { return Native.UnmarshalInto(m, b) }
