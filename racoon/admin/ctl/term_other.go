//go:build !linux && !freebsd

package ctl

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func isTerminal(f *os.File) bool { return false }

func getpass(prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimSuffix(line, "\n"), nil
}
