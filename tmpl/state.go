package tmpl

import (
	"math/rand/v2"
	"time"
)

// Names assigns a slot number to each variable name a plan uses: vars,
// extracted values and feeder columns ("users.name"). Templates refer to
// variables by slot, so rendering indexes a slice instead of hashing a name.
// A Names is built while the plan is compiled and is read-only afterwards.
type Names struct {
	slots map[string]int
	names []string
}

// NewNames returns an empty set of names.
func NewNames() *Names {
	return &Names{slots: make(map[string]int)}
}

// Add returns the slot of name, assigning the next free slot the first time
// name is seen.
func (n *Names) Add(name string) int {
	if s, ok := n.slots[name]; ok {
		return s
	}
	s := len(n.names)
	n.slots[name] = s
	n.names = append(n.names, name)
	return s
}

// Slot returns the slot of name, and whether name has one.
func (n *Names) Slot(name string) (int, bool) {
	if n == nil {
		return 0, false
	}
	s, ok := n.slots[name]
	return s, ok
}

// Name returns the name in slot s.
func (n *Names) Name(s int) string { return n.names[s] }

// Len is the number of slots.
func (n *Names) Len() int {
	if n == nil {
		return 0
	}
	return len(n.names)
}

// State is one client's values, by slot, plus its random source and
// counters. It is not safe for concurrent use: each client owns one.
type State struct {
	// Vals holds the value of each slot of the Names the templates were
	// compiled against. A slot past the end renders as "".
	Vals []string
	// Rand is the client's random source; NewState seeds one per client.
	Rand *rand.Rand
	// Seq is the last number seq rendered; seq adds one before rendering.
	Seq int64
	// Now is the clock now reads; nil means time.Now.
	Now func() time.Time

	// scratch[d] holds the result of a nested call evaluated at depth d
	// (see State.nested); one buffer per depth so that a call's argument
	// never shares memory with the buffer the call appends to.
	scratch [][]byte
}

// NewState returns a State with a slot for each of n's names and a random
// source seeded with seed. Create it after every template is compiled, so
// that Vals covers every name.
func NewState(n *Names, seed uint64) *State {
	return &State{
		Vals: make([]string, n.Len()),
		Rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

func (st *State) val(slot int) string {
	if slot < len(st.Vals) {
		return st.Vals[slot]
	}
	return ""
}

func (st *State) rng() *rand.Rand {
	if st.Rand == nil {
		st.Rand = rand.New(rand.NewPCG(0, 0x9e3779b97f4a7c15))
	}
	return st.Rand
}

func (st *State) now() time.Time {
	if st.Now == nil {
		return time.Now()
	}
	return st.Now()
}
