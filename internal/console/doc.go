// Package console holds the two helpers every part of convgraph that writes for people
// shares: [Commas], which formats counts the way Keras prints them (333,526), and
// [IsTerminal], which tells a live terminal (where a progress bar redraws its line) from a
// file or pipe (where it prints one line per epoch or download).
package console
