package main

import (
	"github.com/freshgraph/freshgraph/graph"
	"github.com/freshgraph/freshgraph/internal/accounts"
)

const (
	accountsEmailBurst   = accounts.EmailBurst
	accountsAddressBurst = accounts.AddressBurst
)

// answeredByExecutor reports whether graph.Executor answers root field name.
func answeredByExecutor(name string) bool { return graph.AnsweredByExecutor(name) }
