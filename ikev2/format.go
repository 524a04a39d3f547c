package ikev2

import "fmt"

// Keys never reach logs: every fmt verb of the types that hold key
// bytes prints them without the keys.

type saStateNoKeys SAState

// Format prints the state with its key fields omitted.
func (s SAState) Format(f fmt.State, verb rune) {
	c := saStateNoKeys(s)
	c.SKEYSEED, c.SKd, c.SKai, c.SKar, c.SKei, c.SKer, c.SKpi, c.SKpr, c.PSK = nil, nil, nil, nil, nil, nil, nil, nil, nil
	c.Children = nil
	for _, ch := range s.Children {
		ch.EncIn, ch.IntegIn, ch.EncOut, ch.IntegOut = nil, nil, nil, nil
		c.Children = append(c.Children, ch)
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), c)
}

// Format prints the child's String for every verb.
func (c *ChildSA) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// Format prints the IKE SA's String for every verb.
func (sa *IKESA) Format(f fmt.State, _ rune) { fmt.Fprint(f, sa.String()) }
