# SPDX-License-Identifier: MIT
# Pi by Monte Carlo: speedup against the number of workers, per mode, with the ideal linear
# speedup up to the physical cores: the chapter's claims on threads under a GIL (no speedup),
# processes (near-linear to the cores) and workers beyond the cores (nothing more).
# Input: TSV with a header row "workers <mode> <mode> ..." (the modes present vary: serial,
# threads, gil-threads, processes), speedup = samples/s over serial with 1 worker, one sample
# at a time; NaN = not measured. meta: TSV with a header row "physical_cores logical_cpus"
# and one row (header only: the core lines are left out).
# usage: gnuplot -e "in='pi_speedup.tsv'; meta='pi_meta.tsv'; out='pi_speedup'; subtitle='...'" \
#        plots/pi_speedup.gp
if (!exists("in")) in = 'pi_speedup.tsv'
if (!exists("meta")) meta = 'pi_meta.tsv'
if (!exists("out")) out = 'pi_speedup'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# Pass 1 over the data, header row included (line 0), so a header-only file still has a
# point and gives no warning: count the rows.
rows = 0
set table $prepass
plot in using ($0 == 0 ? 0 : (rows = rows + 1, 0)):(0) with table
unset table

# Pass 2, only with data: the mode names from the header, the largest worker count and the
# largest speedup (NaN is no value: NaN > x is false).
ncols = 1; modes = ""; wmax = 1; hi = 1
peak(v) = (v == v && v > hi ? hi = v : 0)
if (rows > 0) {
    stats in using 1 nooutput
    ncols = STATS_columns
    wmax = STATS_max
    set table $prepass
    plot in using ($0 == 0 ? sum [c = 2:ncols] (modes = modes . " " . strcol(c), 0) \
                           : sum [c = 2:ncols] peak(column(c))):(0) with table
    unset table
    rows = words(modes) > 0 ? rows : 0 # rows but no mode column: nothing to draw
}
undefine $prepass

# The topology: physical cores P and logical CPUs L (NaN when the file has no row).
P = NaN; L = NaN
set table $metapass
plot meta using ($0 == 0 ? 0 : (P = column(1), L = column(2), 0)):(0) with table
unset table
undefine $metapass
have_p = (P == P && P >= 1)
have_l = (L == L && L >= 1 && have_p && L != P)

# One colour and point per mode wherever it appears, so figures from different runs compare.
colour(m) = m eq "serial" ? "#555555" : m eq "threads" ? "#ff7f0e" : \
            m eq "gil-threads" ? "#d62728" : m eq "processes" ? "#1f77b4" : "#8c564b"
point(m) = m eq "serial" ? 4 : m eq "threads" ? 9 : m eq "gil-threads" ? 13 : \
           m eq "processes" ? 7 : 11
# serial is one point at (1, 1) by definition: an open square, larger, around whatever else
# sits there.
size(m) = m eq "serial" ? 2.6 : 1.3
name(m) = m eq "serial" ? "serial (one thread)" : \
          m eq "threads" ? "threads (no lock)" : \
          m eq "gil-threads" ? "gil-threads (emulated GIL: one computes at a time)" : \
          m eq "processes" ? "processes" : m

set title "Pi by Monte Carlo: speedup by number of workers\n{/*0.8 ".subtitle."}"
set xlabel "workers (threads or processes)"
set ylabel "speedup over serial with 1 worker (samples/s ratio; higher is better)"
set grid ytics lt 1 lw 1 lc rgb "#e4e4e4"
set border 3
set xtics nomirror
set ytics nomirror
# Below the axes: inside, every corner can hold data (top left too, on a machine of 2 cores).
set key outside below center horizontal Left reverse maxcols 3 samplen 2.5 width 1 spacing 1.2
set datafile missing "NaN"
set datafile columnheaders

xmax = wmax > (have_p ? P : 1) ? wmax : (have_p ? P : 1)
xmax = have_l && L > xmax ? L : xmax
ymax = hi > (have_p ? P : 1) ? hi : (have_p ? P : 1)
if (xmax <= 16) { set xtics 1 }
# 1 = as fast as serial: where threads under a GIL stay.
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb "#bbbbbb" lw 1 back
if (have_p) {
    # The ideal: linear up to the physical cores, flat beyond (more workers share the cores).
    set arrow 2 from 1, 1 to P, P nohead lc rgb "#444444" dt 2 lw 1.2 back
    set arrow 3 from P, P to xmax + 0.5, P nohead lc rgb "#444444" dt 2 lw 1.2 back
    set arrow 4 from P, graph 0 to P, graph 1 nohead lc rgb "#2ca02c" lw 1.5 back
    set label 4 sprintf("%d physical core%s", P, P == 1 ? "" : "s") at P, graph 0.97 \
        left offset 0.6, 0 tc rgb "#2ca02c"
}
if (have_l) {
    set arrow 5 from L, graph 0 to L, graph 1 nohead lc rgb "#9467bd" dt 3 lw 1.5 back
    set label 5 sprintf("%d logical CPUs", L) at L, graph 0.97 left offset 0.6, 0 \
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
    if (rows == 0) {
        unset arrow
        unset label
        unset xtics
        unset ytics
        unset key
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no pi speedup measured in ".in at graph 0.5, graph 0.5 center noenhanced
        plot -1 notitle
    } else {
        set xrange [0.5:xmax + 0.5]
        set yrange [0:ymax * 1.15]
        plot for [i = 1:words(modes)] in using 1:(column(i + 1)) with linespoints \
                 lw 2 pt point(word(modes, i)) ps size(word(modes, i)) \
                 lc rgb colour(word(modes, i)) \
                 title name(word(modes, i)), \
             keyentry with lines lc rgb "#444444" dt 2 lw 1.2 \
                 title (have_p ? "ideal: linear up to the physical cores, then flat" : "")
    }
    set output
}
