package main

import (
	"github.com/freshgraph/freshgraph/internal/accounts"
)

const (
	accountsEmailBurst   = accounts.EmailBurst
	accountsAddressBurst = accounts.AddressBurst
	accountsAddressEvery = accounts.AddressEvery
)
