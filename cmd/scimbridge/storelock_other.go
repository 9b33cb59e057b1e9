//go:build !unix

package main

import "os"

// flockTry: without flock the owner lock is advisory only in name; the
// store itself still serialises writers.
func flockTry(*os.File) (bool, error) { return false, nil }
