# SPDX-License-Identifier: MIT
# Counting the primes up to N with workers fed from a queue, jobs of 1000 numbers: wall time by
# the number of worker processes, one line per transport, with the physical cores and logical
# CPUs marked: workers beyond the physical cores should bring nothing more (C3).
# Input: TSV with a header row "workers <transport> <transport> ..." (ms; the transports present
# vary, a header may carry a note such as "redis (N=20000)"; an optional column "serial" is
# drawn as a horizontal line), one row per worker count, NaN = not measured. meta (optional):
# TSV with a header row "physical_cores logical_cpus" and one row (header only or missing
# file: the core lines are left out).
# usage: gnuplot -e "in='find_primes_workers.tsv'; meta='pi_meta.tsv'; out='find_primes_workers';
#        subtitle='...'" plots/find_primes_workers.gp
if (!exists("in")) in = 'find_primes_workers.tsv'
if (!exists("meta")) meta = ''
if (!exists("out")) out = 'find_primes_workers'
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

# Pass 2, only with data: the headers, which column is serial, how many values each transport
# has, the ranges of both axes, and serial's time (its first valid value).
transports = ""; scol = 0; serial_ms = NaN; values = 0
lo = NaN; hi = NaN; wmax = 1
array n[64]
array hd[64]
do for [i = 1:64] { n[i] = 0; hd[i] = "" }
ok(c) = valid(c) && column(c) > 0
span(v) = (v == v && v > 0 ? (lo = lo == lo && lo < v ? lo : v, \
                              hi = hi == hi && hi > v ? hi : v) : 0)
header(c) = (hd[c] = strcol(c), \
             hd[c] eq "serial" ? scol = c : transports = transports . " " . c, 0)
tally(c) = (ok(c) ? (c == scol ? (serial_ms = serial_ms == serial_ms ? serial_ms : column(c)) \
                               : (n[c] = n[c] + 1, values = values + 1), \
                     span(column(c))) : 0, 0)
if (rows > 0 && ncols >= 2 && ncols <= 64) {
    set table $prepass
    plot in using ($0 == 0 ? sum [c = 2:ncols] header(c) \
                           : (wmax = ok(1) && $1 > wmax ? $1 : wmax, \
                              sum [c = 2:ncols] tally(c))):(0) with table
    unset table
}
undefine $prepass
drawn = ""
do for [i = 1:words(transports)] {
    c = int(word(transports, i))
    drawn = n[c] > 0 ? drawn . " " . c : drawn
}
have_serial = serial_ms == serial_ms

# The topology: physical cores P and logical CPUs L (NaN without a meta file or row).
P = NaN; L = NaN
if (strlen(meta) > 0 && system("test -r '" . meta . "' && echo yes") eq "yes") {
    set table $metapass
    plot meta using ($0 == 0 ? 0 : (P = column(1), L = column(2), 0)):(0) with table
    unset table
    undefine $metapass
}
have_p = P == P && P >= 1
have_l = L == L && L >= 1 && have_p && L != P

name(c) = word(hd[c], 1)
colour(s) = s eq "pipe" ? "#1f77b4" : s eq "socketpair" ? "#ff7f0e" : s eq "mq" ? "#9467bd" : \
            s eq "shm-ring" ? "#2ca02c" : s eq "uring" ? "#8c564b" : s eq "redis" ? "#d62728" : \
            "#17becf"
point(s) = s eq "pipe" ? 7 : s eq "socketpair" ? 5 : s eq "mq" ? 9 : s eq "shm-ring" ? 11 : \
           s eq "uring" ? 13 : s eq "redis" ? 15 : 3

set title "Counting primes with workers fed from a queue: wall time by number of workers\n" . \
          "{/*0.8 ".subtitle."}"
set xlabel "worker processes (jobs of 1000 numbers)"
set ylabel "wall time of the whole count (ms, log scale; lower is better)"
set ytics nomirror
set xtics nomirror
set grid ytics lt 1 lw 1 lc rgb "#e4e4e4"
set border 3
set bmargin at screen 0.17
set key at screen 0.5, screen 0.01 center bottom horizontal Left reverse maxcols 4 \
    samplen 2.5 width 1 noenhanced
set datafile missing "NaN"
set datafile columnheaders

# A little room around the data and serial's line, 1-2-5 tics: times of one transport differ
# by a few times at most, and whole decades would squeeze them into a band.
lo = have_serial && !(lo == lo && lo < serial_ms) ? serial_ms : lo
hi = have_serial && !(hi == hi && hi > serial_ms) ? serial_ms : hi
y0 = lo == lo ? lo / 1.6 : 1
y1 = hi == hi ? hi * 1.6 : 10
# Every multiple labelled over a narrow range, 1-2-5 over a wide one.
labelled = y1 / y0 < 30 ? "1 2 3 4 5 6 7 8 9" : "1 2 5"
tic_name(v) = v < 1 ? sprintf("%g", v) : v < 10000 ? sprintf("%.0f", v) : \
              sprintf("%.0f 000", v / 1000)
set ytics ()
do for [e = -2:6] {
    do for [m = 1:9] {
        v = m * 10.0**e
        if (strstrt(labelled, sprintf("%d", m)) > 0) {
            set ytics add (tic_name(v) v)
        } else {
            set ytics add ("" v 1)
        }
    }
}
xmax = wmax
xmax = have_p && P > xmax ? P : xmax
xmax = have_l && L > xmax ? L : xmax
if (xmax <= 16) { set xtics 1 }
if (have_serial) {
    set arrow 1 from graph 0, first serial_ms to graph 1, first serial_ms nohead \
        lc rgb "#444444" lw 2 dt 2 back
    set label 1 sprintf("serial: no queue, no processes (%.3g ms)", serial_ms) \
        at graph 0.99, first serial_ms right offset 0, -0.9 tc rgb "#444444"
}
if (have_p) {
    set arrow 2 from P, graph 0 to P, graph 1 nohead lc rgb "#2ca02c" lw 1.5 back
    set label 2 sprintf("%d physical core%s", P, P == 1 ? "" : "s") at P, graph 0.97 \
        left offset 0.6, 0 tc rgb "#2ca02c"
}
if (have_l) {
    set arrow 3 from L, graph 0 to L, graph 1 nohead lc rgb "#9467bd" dt 3 lw 1.5 back
    set label 3 sprintf("%d logical CPUs", L) at L, graph 0.92 left offset 0.6, 0 \
        tc rgb "#9467bd"
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
        set label 4 "no find-primes time by workers in ".in at graph 0.5, graph 0.5 center \
            noenhanced
        plot -1 notitle
    } else {
        set logscale y
        set xrange [0.5:xmax + 0.5]
        set yrange [y0:y1]
        plot for [i = 1:words(drawn)] in using 1:(column(int(word(drawn, i)))) \
                 with linespoints lw 2 pt point(name(int(word(drawn, i)))) ps 1.2 \
                 lc rgb colour(name(int(word(drawn, i)))) title hd[int(word(drawn, i))]
    }
    set output
}
