# SPDX-License-Identifier: MIT
# Counting the primes up to N with two workers fed from a queue: wall time by job size (numbers
# per job), one line per transport, log-log, against the serial loop as a horizontal line: tiny
# jobs carry the most communication overhead and larger ones give diminishing returns (C9);
# where a line stays above serial's, the queue loses to doing the work alone (C10).
# Input: TSV with a header row "job_size <transport> <transport> ... serial" (ms; the
# transports present vary, a header may carry a note such as "redis (N=20000)"; serial is the
# same value on every row), one row per job size, NaN = not measured.
# usage: gnuplot -e "in='find_primes_jobsize.tsv'; out='find_primes_jobsize'; subtitle='...'" \
#        plots/find_primes_jobsize.gp
if (!exists("in")) in = 'find_primes_jobsize.tsv'
if (!exists("out")) out = 'find_primes_jobsize'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# Pass 1, header row included (line 0) so that a header-only file still has a point and gives
# no warning: count the rows and the columns.
rows = 0; ncols = 1
set table $prepass
plot in using ($0 == 0 ? 0 : (rows = rows + 1, 0)):(0) with table
unset table
if (rows > 0) {
    stats in using 1 nooutput
    ncols = STATS_columns
}

# Pass 2, only with data: which column is serial, the transports' columns (by number: their
# headers may hold spaces), how many values each has, the ranges of both axes, and serial's
# time (its first valid value).
transports = ""; scol = 0; serial_ms = NaN; values = 0
lo = NaN; hi = NaN; xmin = NaN; xmax = NaN
array n[64]
array hd[64]
do for [i = 1:64] { n[i] = 0; hd[i] = "" }
ok(c) = valid(c) && column(c) > 0
span(v) = (v == v && v > 0 ? (lo = lo == lo && lo < v ? lo : v, \
                              hi = hi == hi && hi > v ? hi : v) : 0)
xspan(v) = (v == v && v > 0 ? (xmin = xmin == xmin && xmin < v ? xmin : v, \
                               xmax = xmax == xmax && xmax > v ? xmax : v) : 0)
header(c) = (hd[c] = strcol(c), \
             hd[c] eq "serial" ? scol = c : transports = transports . " " . c, 0)
tally(c) = (ok(c) ? (c == scol ? (serial_ms = serial_ms == serial_ms ? serial_ms : column(c)) \
                               : (n[c] = n[c] + 1, values = values + 1), \
                     span(column(c))) : 0, 0)
if (rows > 0 && ncols >= 2 && ncols <= 64) {
    set table $prepass
    plot in using ($0 == 0 ? sum [c = 2:ncols] header(c) \
                           : (xspan(ok(1) ? $1 : NaN), sum [c = 2:ncols] tally(c))):(0) \
        with table
    unset table
}
undefine $prepass
# The transports with at least one value: plotting an empty column warns.
drawn = ""
do for [i = 1:words(transports)] {
    c = int(word(transports, i))
    drawn = n[c] > 0 ? drawn . " " . c : drawn
}
have_serial = serial_ms == serial_ms

# One colour and point per transport wherever it appears, so figures from different runs
# compare; the name is the header's first word.
name(c) = word(hd[c], 1)
colour(s) = s eq "pipe" ? "#1f77b4" : s eq "socketpair" ? "#ff7f0e" : s eq "mq" ? "#9467bd" : \
            s eq "shm-ring" ? "#2ca02c" : s eq "uring" ? "#8c564b" : s eq "redis" ? "#d62728" : \
            "#17becf"
point(s) = s eq "pipe" ? 7 : s eq "socketpair" ? 5 : s eq "mq" ? 9 : s eq "shm-ring" ? 11 : \
           s eq "uring" ? 13 : s eq "redis" ? 15 : 3

set title "Counting primes with workers fed from a queue: wall time by job size\n{/*0.8 " . \
          subtitle . "}"
set xlabel "numbers per job (log scale); 2 workers, one job and one result message per job"
set ylabel "wall time of the whole count (ms, log scale; lower is better)"
set xtics nomirror ("1" 1, "10" 10, "100" 100, "1000" 1e3, "10 000" 1e4, "100 000" 1e5, \
                    "1 000 000" 1e6, "10 000 000" 1e7, "100 000 000" 1e8)
set ytics nomirror ("0.01" 1e-2, "0.1" 0.1, "1" 1, "10" 10, "100" 100, "1000" 1e3, \
                    "10 000" 1e4, "100 000" 1e5, "1 000 000" 1e6)
do for [e = -2:6] { do for [m = 2:9] { set ytics add ("" m * 10.0**e 1) } }
set grid ytics xtics lt 1 lw 1 lc rgb "#e4e4e4"
set border 3
# The key under the axis label, clear of the data whatever its shape.
set bmargin at screen 0.17
set key at screen 0.5, screen 0.01 center bottom horizontal Left reverse maxcols 4 \
    samplen 2.5 width 1 noenhanced
set datafile missing "NaN"
set datafile columnheaders

# Whole decades around the data and serial's line.
lo = have_serial && !(lo == lo && lo < serial_ms) ? serial_ms : lo
hi = have_serial && !(hi == hi && hi > serial_ms) ? serial_ms : hi
y0 = lo == lo ? 10.0**floor(log10(lo)) : 1
y1 = hi == hi ? 10.0**ceil(log10(hi * 1.01)) : 10
if (have_serial) {
    set arrow 1 from graph 0, first serial_ms to graph 1, first serial_ms nohead \
        lc rgb "#444444" lw 2 dt 2 back
    # Under the line at the left, where the one-number jobs are far above it.
    set label 1 sprintf("serial: no queue, no processes (%.3g ms)", serial_ms) \
        at graph 0.01, first serial_ms left offset 0, -0.9 tc rgb "#444444"
}

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1000,600 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1000,600 font "sans,10" dynamic
        set output out.".svg"
    }
    if (values == 0) {
        unset arrow
        unset label
        unset xtics
        unset ytics
        unset grid
        unset key
        unset xlabel
        unset ylabel
        set bmargin
        set xrange [0:1]
        set yrange [0:1]
        set label 2 "no find-primes time by job size in ".in at graph 0.5, graph 0.5 center \
            noenhanced
        plot -1 notitle
    } else {
        set logscale x
        set logscale y
        set xrange [xmin / 2:xmax * 2]
        set yrange [y0:y1]
        plot for [i = 1:words(drawn)] in using 1:(column(int(word(drawn, i)))) \
                 with linespoints lw 2 pt point(name(int(word(drawn, i)))) ps 1.2 \
                 lc rgb colour(name(int(word(drawn, i)))) title hd[int(word(drawn, i))]
    }
    set output
}
