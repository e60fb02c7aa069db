# SPDX-License-Identifier: MIT
# Work-queue transports by message size: messages per second from one producer process to one
# consumer process (left), and one-way latency, a ping-pong round trip / 2 (right).
# Input: TSV with a header row "size <transport> <transport> ..." (size in bytes, one row per
# size; messages per second), and lat: the same layout with the one-way latency in us;
# NaN = not measured.
# usage: gnuplot -e "in='queue.tsv'; lat='queue_latency.tsv'; out='queue'; subtitle='...'" \
#        plots/queue.gp
if (!exists("in")) in = 'queue.tsv'
if (!exists("lat")) lat = 'queue_latency.tsv'
if (!exists("out")) out = 'queue'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"
set datafile missing "NaN"

# One pass over each file, header row included (line 0), so a header-only file still has a
# point and gives no warning: the transports (header words), the rows, and the range of the
# sizes and of the values (NaN is no value: NaN < x is false).
names_t = ""; rows_t = 0; vals_t = 0; smin = NaN; smax = NaN; tlo = NaN; thi = NaN
names_l = ""; rows_l = 0; vals_l = 0; llo = NaN; lhi = NaN
lo_of(v, lo) = v == v && v > 0 && !(lo == lo && lo <= v) ? v : lo
hi_of(v, hi) = v == v && v > 0 && !(hi == hi && hi >= v) ? v : hi
size_seen(s) = (smin = lo_of(s, smin), smax = hi_of(s, smax), 0)
seen_t(v) = (vals_t = vals_t + (v == v && v > 0), tlo = lo_of(v, tlo), thi = hi_of(v, thi), 0)
seen_l(v) = (vals_l = vals_l + (v == v && v > 0), llo = lo_of(v, llo), lhi = hi_of(v, lhi), 0)
set table $prepass
# ($# is the number of columns of the line.)
plot in using ($0 == 0 ? sum [c = 2:int($#)] (names_t = names_t . " " . strcol(c), 0) \
                       : (rows_t = rows_t + 1, size_seen(column(1)), \
                          sum [c = 2:int($#)] seen_t(column(c)))):(0) with table
plot lat using ($0 == 0 ? sum [c = 2:int($#)] (names_l = names_l . " " . strcol(c), 0) \
                        : (rows_l = rows_l + 1, size_seen(column(1)), \
                           sum [c = 2:int($#)] seen_l(column(c)))):(0) with table
unset table
undefine $prepass

# One colour and point per transport wherever it appears, so figures from runs compare.
colour(t) = t eq "pipe" ? "#1f77b4" : t eq "socketpair" ? "#ff7f0e" : t eq "mq" ? "#2ca02c" : \
            t eq "shm-ring" ? "#d62728" : t eq "uring" ? "#9467bd" : t eq "redis" ? "#8c564b" : \
            "#7f7f7f"
point(t) = t eq "pipe" ? 7 : t eq "socketpair" ? 5 : t eq "mq" ? 9 : t eq "shm-ring" ? 13 : \
           t eq "uring" ? 11 : t eq "redis" ? 15 : 3

# Sizes in bytes at powers of 8 (the benchmark's sizes), in binary units.
set xtics nomirror ("1 B" 1, "8 B" 8, "64 B" 64, "512 B" 512, "4 KiB" 4096, "64 KiB" 65536, \
                    "1 MiB" 1048576)
set mxtics default
set ytics nomirror
set grid xtics ytics lt 1 lw 1 lc rgb "#e4e4e4"
set border 3
set logscale xy
set xlabel "message size (bytes, log scale)"
set format y "%g"
set key off

x0 = smin == smin ? smin / 1.6 : 1
x1 = smax == smax ? smax * 1.6 : 65536

# The multiplot's own title sits above both panels; each panel keeps a margin for it and the
# shared key (one entry per transport, below the panels) takes the bottom strip.
set lmargin at screen 0.08
set bmargin at screen 0.22
set tmargin at screen 0.86

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1000,600 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1000,600 font "sans,10" dynamic
        set output out.".svg"
    }
    set multiplot title "Work-queue transports: messages per second and one-way latency by " . \
        "message size\n{/*0.8 ".subtitle."}"

    # ---- left: throughput -------------------------------------------------------------------
    set lmargin at screen 0.09
    set rmargin at screen 0.485
    set xrange [x0:x1]
    set title "throughput: one producer process to one consumer process" font ",10"
    set ylabel "messages per second (log scale; higher is better)"
    set ytics ("1" 1, "10" 10, "100" 100, "1 k" 1e3, "10 k" 1e4, "100 k" 1e5, "1 M" 1e6, \
               "10 M" 1e7, "100 M" 1e8, "1 G" 1e9)
    set mytics 10
    if (vals_t == 0) {
        set yrange [1e3:1e7]
        set label 1 "no throughput measured in ".in at graph 0.5, graph 0.5 center noenhanced
        plot 1e-30 notitle
        unset label 1
    } else {
        ylo = 10.0**floor(log10(tlo / 1.5)); yhi = 10.0**ceil(log10(thi * 1.5))
        set yrange [ylo:yhi]
        # Bytes per second is messages per second x size: grey lines of constant bandwidth,
        # labelled where they enter the panel, turned to their slope on the screen (the
        # panel's pixels per decade differ in x and y).
        px_dec = 1000 * (0.485 - 0.09) / log10(x1 / x0)
        py_dec = 600 * (0.86 - 0.22) / log10(yhi / ylo)
        angle = -atan(py_dec / px_dec) * 180 / pi
        do for [e = 6:11] {
            bw = 10.0**e
            lx = (bw / yhi > x0 ? bw / yhi : x0) * 1.3
            if (lx < x1 / 2 && bw / lx > ylo * 3) {
                txt = e == 6 ? "1 MB/s" : e == 7 ? "10 MB/s" : e == 8 ? "100 MB/s" : \
                      e == 9 ? "1 GB/s" : e == 10 ? "10 GB/s" : "100 GB/s"
                set label 10 + e txt at lx, bw / lx * 0.8 left rotate by angle \
                    tc rgb "#a0a0a0" font ",8" back
            }
        }
        plot for [e = 6:11] 10.0**e / x with lines dt 2 lw 1 lc rgb "#cccccc" notitle, \
             for [i = 1:words(names_t)] in using 1:(column(i + 1)) with linespoints \
                 lw 2 pt point(word(names_t, i)) ps 1.1 lc rgb colour(word(names_t, i)) notitle
        do for [e = 6:11] { unset label 10 + e }
    }

    # ---- right: latency ---------------------------------------------------------------------
    set lmargin at screen 0.585
    set rmargin at screen 0.98
    set title "latency: half a round trip (ping-pong through two queues)" font ",10"
    set ylabel "one-way latency (µs, log scale; lower is better)"
    set ytics ("0.01" 0.01, "0.1" 0.1, "1" 1, "10" 10, "100" 100, "1000" 1e3, "10 000" 1e4, \
               "100 000" 1e5, "1 000 000" 1e6)
    if (vals_l == 0) {
        set yrange [0.1:1000]
        set label 1 "no latency measured in this run" at graph 0.5, graph 0.5 center noenhanced
        plot 1e-30 notitle
        unset label 1
    } else {
        set yrange [10.0**floor(log10(llo / 1.5)):10.0**ceil(log10(lhi * 1.5))]
        plot for [i = 1:words(names_l)] lat using 1:(column(i + 1)) with linespoints \
                 lw 2 pt point(word(names_l, i)) ps 1.1 lc rgb colour(word(names_l, i)) notitle
    }

    # ---- the key: every transport of either file, once, below both panels ------------------
    all = names_t
    do for [i = 1:words(names_l)] {
        if (strstrt(" " . all . " ", " " . word(names_l, i) . " ") == 0) {
            all = all . " " . word(names_l, i)
        }
    }
    if (words(all) > 0 && vals_t + vals_l > 0) {
        unset border
        unset tics
        unset xlabel
        unset ylabel
        unset grid
        unset logscale
        unset title
        set lmargin at screen 0.09
        set rmargin at screen 0.98
        set bmargin at screen 0.0
        set tmargin at screen 0.08
        set xrange [0:1]
        set yrange [0:1]
        set key at screen 0.535, screen 0.065 center center horizontal reverse Left \
            samplen 2.5 width 1 maxcols 6 noenhanced
        plot for [i = 1:words(all)] NaN with linespoints lw 2 pt point(word(all, i)) ps 1.1 \
                 lc rgb colour(word(all, i)) title word(all, i)
        set key off
        set border 3
        set tics
        set xtics nomirror ("1 B" 1, "8 B" 8, "64 B" 64, "512 B" 512, "4 KiB" 4096, \
                            "64 KiB" 65536, "1 MiB" 1048576)
        set ytics nomirror
        set grid xtics ytics lt 1 lw 1 lc rgb "#e4e4e4"
        set logscale xy
        set xlabel "message size (bytes, log scale)"
        set bmargin at screen 0.22
        set tmargin at screen 0.86
    }
    unset multiplot
    set output
}
