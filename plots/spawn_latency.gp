# SPDX-License-Identifier: MIT
# Creation latency of a thread, a forked process and a fork+exec, with the child on the
# parent's CPU or on the other one: the median with the min..max whisker, log scale (they
# differ by decades). Input: TSV with a header row "label median_us min_us max_us", one row per
# kind and placement, labels "<kind> (same core)" or "<kind> (other core)", NaN = not measured.
# usage: gnuplot -e "in='spawn_latency.tsv'; out='spawn_latency'; subtitle='...'" plots/spawn_latency.gp
if (!exists("in")) in = 'spawn_latency.tsv'
if (!exists("out")) out = 'spawn_latency'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# The kind is the label up to its first space; the placement is in the parentheses.
kind_of(s) = strstrt(s, " ") > 1 ? s[1:strstrt(s, " ") - 1] : s
other_of(s) = strstrt(s, "other") > 0
known(k) = (k eq "thread" || k eq "fork" || k eq "fork-exec")

# One pass over the file (header row included, as line 0): count the rows and what each series
# has, and find the range of the values. An empty series gets no key entry, and a file with no
# median gets a figure that says so instead of a gnuplot error.
rows = 0; medians = 0; lo = NaN; hi = NaN
array n[8]
do for [i = 1:8] { n[i] = 0 }
# Series index: 1, 2 thread on the same and the other core, 3, 4 fork, 5, 6 fork-exec, 7, 8
# any other kind (so the key's columns are the kinds).
kind_index(k) = k eq "thread" ? 0 : k eq "fork" ? 1 : k eq "fork-exec" ? 2 : 3
series(s) = 2 * kind_index(kind_of(s)) + other_of(s) + 1
# The same-core medians of a thread and a fork, for the ratio the claim is about.
thread_med = NaN; fork_med = NaN
remember(s, v) = (series(s) == 1 ? thread_med = v : series(s) == 3 ? fork_med = v : 0, 0)
tally(s, ok) = ok ? (n[series(s)] = n[series(s)] + 1, 0) : 0
span(v) = (v == v && v > 0 ? (lo = lo == lo && lo < v ? lo : v, \
                              hi = hi == hi && hi > v ? hi : v) : 0)
set table $prepass
plot in using ($0 == 0 ? 0 : (rows = rows + 1, medians = medians + (valid(2) && $2 > 0), \
                              tally(strcol(1), valid(2) && $2 > 0), \
                              valid(2) && $2 > 0 ? remember(strcol(1), $2) : 0, \
                              sum [c = 2:4] span(column(c)))):(0) with table
unset table
undefine $prepass

# A NaN in a column named in "using" drops the whole row, so the optional columns are read
# through these, and only when valid.
median(i) = series(strcol(1)) == i && column(2) > 0 ? column(2) : NaN
whisker(c) = valid(c) && column(c) > 0 ? column(c) : column(2)
below_whisker(v) = (valid(3) && column(3) > 0 ? column(3) : v) / 1.7
fmt_us(v) = v < 10 ? sprintf("%.1f µs", v) : v < 1e4 ? sprintf("%.0f µs", v) : \
            sprintf("%.1f ms", v / 1000.0)

set datafile columnheaders
set title "Creating a worker: a thread, a forked process, a fork+exec\n{/*0.8 ".subtitle."}"
set ylabel "µs from the create call to the child running (log scale; lower is better)"
set label 2 "kind (placement of the child), sorted by median.  Point: median; whisker: " . \
            "min..max; number: median.\nfork-exec runs /bin/true: its start is the exec " . \
            "commit seen by the parent, just before the new program's loader runs." \
            at screen 0.5, screen 0.145 center
set xtics noenhanced scale 0 nomirror
# A labelled tic per decade in plain numbers, minor tics at 2..9 times each; the range is whole
# decades around the data and the numbers under the points.
set ytics nomirror ("0.001" 1e-3, "0.01" 1e-2, "0.1" 0.1, "1" 1, "10" 10, "100" 100, \
                    "1000" 1e3, "10 000" 1e4, "100 000" 1e5, "1 000 000" 1e6, "10 000 000" 1e7)
do for [e = -4:7] { do for [m = 2:9] { set ytics add ("" m * 10.0**e 1) } }
set grid ytics lt 1 lw 1 lc rgb "#e4e4e4"
set bars 2
set border 3
set bmargin at screen 0.27
set rmargin 3
set key at screen 0.5, screen 0.005 center bottom horizontal reverse Left samplen 1.5 width -2 \
    maxrows 2

# Colour: the kind; filled marker: child on the parent's core, open: on the other core.
colour(i) = i <= 2 ? 0x1f77b4 : i <= 4 ? 0xff7f0e : i <= 6 ? 0xd62728 : 0x8c564b
title_of(i) = n[i] == 0 ? "" : (i <= 2 ? "thread" : i <= 4 ? "fork" : i <= 6 ? "fork+exec" : \
                                "other kind") . (i % 2 == 0 ? ", other core" : ", same core")
if (thread_med == thread_med && fork_med == fork_med) {
    set label 3 sprintf("on the same core a fork takes %.0fx as long as a thread", \
                        fork_med / thread_med) at graph 0.02, graph 0.95 left front
}

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1000,600 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1000,600 font "sans,10" dynamic
        set output out.".svg"
    }
    if (medians == 0) {
        unset logscale y
        unset xtics
        unset ytics
        unset label 2
        unset label 3
        unset key
        set bmargin
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no creation latency measured in ".in at graph 0.5, graph 0.5 center noenhanced
        plot -1 notitle
    } else {
        set logscale y
        set xrange [-0.6:rows - 0.4]
        ylo = 10.0**floor(log10(lo / 1.7 / 1.6)) * 0.999
        yhi = 10.0**ceil(log10(hi * 1.2)) * 1.001
        set yrange [ylo:yhi]
        plot in using 0:(NaN):xtic(1) notitle, \
             for [i = 1:8] '' using 0:(median(i)):(whisker(3)):(whisker(4)) with yerrorbars \
                pt (i % 2 == 0 ? 6 : 7) ps 1.4 lw 1.5 lc rgb colour(i) \
                title title_of(i), \
             '' using 0:(valid(2) && $2 > 0 ? below_whisker($2) : NaN):(fmt_us($2)) \
                with labels font ",9" tc rgb "#444444" notitle, \
             '' using 0:(valid(2) && $2 > 0 ? NaN : sqrt(ylo * yhi)):("not measured") \
                with labels font ",9" tc rgb "#888888" notitle
    }
    set output
}
