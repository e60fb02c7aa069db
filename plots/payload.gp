# SPDX-License-Identifier: MIT
# Handing a large object to worker processes: wall time by object size for the parent alone
# (serial), a serialised copy through a pipe to every worker, a file the workers read their
# share of, and a shared mapping (no copy), log-log; below, each way's time over serial's,
# where above 1 the parallel version is slower than serial (the chapter's claim C6).
# Input: TSV with a header row "size_kib serial pipe file shared" (ms), one row per object
# size, NaN = not measured.
# usage: gnuplot -e "in='payload.tsv'; out='payload'; subtitle='...'" plots/payload.gp
if (!exists("in")) in = 'payload.tsv'
if (!exists("out")) out = 'payload'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# One pass over the file (header row included, as line 0): count the rows and the values of
# each series, and find the range of both axes and of the ratios. An empty series gets no key
# entry; a file with no value gets a figure that says so instead of a gnuplot error.
rows = 0; values = 0; lo = NaN; hi = NaN; xmin = NaN; xmax = NaN; rlo = NaN; rhi = NaN
array n[5]
array nr[5]
do for [i = 1:5] { n[i] = 0; nr[i] = 0 }
ok(c) = valid(c) && column(c) > 0
count(c) = (ok(c) ? (n[c] = n[c] + 1, values = values + 1) : 0, \
            c > 2 && ok(c) && ok(2) ? nr[c] = nr[c] + 1 : 0, 0)
span(v) = (v == v && v > 0 ? (lo = lo == lo && lo < v ? lo : v, \
                              hi = hi == hi && hi > v ? hi : v) : 0)
rspan(v) = (v == v && v > 0 ? (rlo = rlo == rlo && rlo < v ? rlo : v, \
                               rhi = rhi == rhi && rhi > v ? rhi : v) : 0)
xspan(v) = (v == v && v > 0 ? (xmin = xmin == xmin && xmin < v ? xmin : v, \
                               xmax = xmax == xmax && xmax > v ? xmax : v) : 0)
# A NaN in a column named in "using" drops the whole row, so values are read through these.
ms(c) = ok(c) ? column(c) : NaN
ratio(c) = ok(c) && ok(2) ? column(c) / column(2) : NaN
set table $prepass
plot in using ($0 == 0 ? 0 : (rows = rows + 1, xspan(ok(1) ? $1 : NaN), \
                              sum [c = 2:5] (count(c) + span(ms(c)) + \
                                             (c > 2 ? rspan(ratio(c)) : 0)))):(0) with table
unset table
undefine $prepass
ratios = rlo == rlo
# The columns with something to draw, in each panel: plotting an empty one warns.
times = ""; rels = ""
do for [c = 2:5] {
    times = n[c] > 0 ? times . " " . c : times
    rels = nr[c] > 0 ? rels . " " . c : rels
}

# Object sizes in words, a tic every factor of 4 from 1 KiB to 1 GiB; the top panel gets the
# same tics without words (explicit tic labels ignore "set format").
size_name(k) = k < 1024 ? sprintf("%d KiB", k) : k < 1048576 ? sprintf("%d MiB", k / 1024) : \
               sprintf("%d GiB", k / 1048576)
set ytics nomirror ("0.001" 1e-3, "0.01" 1e-2, "0.1" 0.1, "1" 1, "10" 10, "100" 100, \
                    "1000" 1e3, "10 000" 1e4, "100 000" 1e5)
do for [e = -4:5] { do for [m = 2:9] { set ytics add ("" m * 10.0**e 1) } }
set grid ytics xtics lt 1 lw 1 lc rgb "#e4e4e4"
set border 3
set logscale x 2
set logscale y
set datafile missing "NaN"
set datafile columnheaders

# Whole decades around the data; the x range a little wider than the sizes measured.
x0 = xmin == xmin ? xmin / 1.6 : 0.5
x1 = xmax == xmax ? xmax * 1.6 : 2
y0 = lo == lo ? 10.0**floor(log10(lo)) : 0.1
y1 = hi == hi ? 10.0**ceil(log10(hi)) : 10
r0 = ratios ? (rlo < 1 ? 2.0**floor(log(rlo) / log(2)) : 0.5) : 0.5
r1 = ratios ? (rhi > 1 ? 2.0**ceil(log(rhi) / log(2)) : 2) : 2
r0 = r0 > 0.25 ? 0.25 : r0
r1 = r1 < 2 ? 2 : r1

colour(c) = c == 2 ? "#444444" : c == 3 ? "#d62728" : c == 4 ? "#ff7f0e" : "#1f77b4"
point(c) = c == 2 ? 4 : c == 3 ? 7 : c == 4 ? 5 : 9
name(c) = c == 2 ? "serial: the parent alone" : \
          c == 3 ? "pipe: serialised, the whole object to every worker" : \
          c == 4 ? "file: written once, each worker reads its share" : \
                   "shared: a mapping inherited over fork, no copy"

# Both panels share the left and right edges, so their size axes line up.
L = 0.09; R = 0.975

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1000,600 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1000,600 font "sans,10" dynamic
        set output out.".svg"
    }
    if (values == 0) {
        set title "Handing a large object to worker processes\n{/*0.8 ".subtitle."}"
        unset logscale
        unset xtics
        unset ytics
        unset grid
        unset key
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no payload time measured in ".in at graph 0.5, graph 0.5 center noenhanced
        plot -1 notitle
        unset label 1
    } else {
        set multiplot title "Handing a large object to worker processes: wall time by object " . \
            "size\n{/*0.8 ".subtitle."}"
        # Top: the times themselves.
        set lmargin at screen L
        set rmargin at screen R
        set tmargin at screen 0.86
        set bmargin at screen 0.42
        set xrange [x0:x1]
        set yrange [y0:y1]
        set xtics nomirror ()
        do for [e = 0:10] { set xtics add ("" 4**e) }
        unset xlabel
        set ylabel "wall time (ms, log scale; lower is better)"
        set key at screen 0.5, screen 0.005 center bottom horizontal reverse Left samplen 2.5 \
            width -4 maxrows 2
        plot for [i = 1:words(times)] in using 1:(ms(int(word(times, i)))) with linespoints \
                 lw 2 pt point(int(word(times, i))) ps 1.2 lc rgb colour(int(word(times, i))) \
                 title name(int(word(times, i)))
        # Bottom: each way's time over serial's at the same size.
        set tmargin at screen 0.40
        set bmargin at screen 0.15
        set yrange [r0:r1]
        # A tic every factor of 2, or of 4 when the ratios span more than 2^8.
        set ytics nomirror ()
        e0 = int(floor(log(r0) / log(2) + 0.5)); e1 = int(floor(log(r1) / log(2) + 0.5))
        step = e1 - e0 > 8 ? 2 : 1
        do for [e = e0:e1] {
            if (e % step == 0) { set ytics add (e < 0 ? sprintf("1/%d", 2**-e) : \
                                                sprintf("%d", 2**e) 2.0**e) }
        }
        set xtics nomirror ()
        do for [e = 0:10] { set xtics add (size_name(4**e) 4**e) }
        set xlabel "object size (64-byte records; log scale)" offset 0, 0.3
        set ylabel "time / serial's" offset 0, 0
        unset key
        set label 2 "slower than serial" at graph 0.01, first 1 left offset 0, 0.7 \
            tc rgb "#a00000" font ",9"
        set label 3 "faster than serial" at graph 0.01, first 1 left offset 0, -0.7 \
            tc rgb "#2c7a2c" font ",9"
        if (!ratios) {
            set label 4 "no serial time to compare with" at graph 0.5, graph 0.5 center
        }
        # The line at 1 is drawn as a function: it always has points, so the panel plots
        # without a warning even when no ratio can be formed (gnuplot evaluates the options
        # of an empty "for", hence the two plots).
        if (words(rels) > 0) {
            plot 1 with lines lc rgb "#444444" lw 1.5 dt 2 notitle, \
                 for [i = 1:words(rels)] in using 1:(ratio(int(word(rels, i)))) \
                     with linespoints lw 2 pt point(int(word(rels, i))) ps 1.2 \
                     lc rgb colour(int(word(rels, i))) notitle
        } else {
            plot 1 with lines lc rgb "#444444" lw 1.5 dt 2 notitle
        }
        unset label 2
        unset label 3
        unset label 4
        unset multiplot
        # Back to the top panel's settings for the next format.
        set ytics nomirror ("0.001" 1e-3, "0.01" 1e-2, "0.1" 0.1, "1" 1, "10" 10, "100" 100, \
                            "1000" 1e3, "10 000" 1e4, "100 000" 1e5)
        do for [e = -4:5] { do for [m = 2:9] { set ytics add ("" m * 10.0**e 1) } }
    }
    set output
}
