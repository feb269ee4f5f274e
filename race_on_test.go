//go:build race

package main

// raceEnabled: the race detector slows Go code several times over, which
// timing checks allow for.
const raceEnabled = true
