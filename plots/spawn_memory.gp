# SPDX-License-Identifier: MIT
# Memory of a forked worker against the memory its parent filled before fork: RSS, PSS and USS
# of a worker that only reads the parent's data (solid) and of one that writes a byte in every
# page of it (dashed), log scale, beside the chapter's 10-20 MB for a Python worker.
# Input: TSV with a header row "parent_mib rss_read pss_read uss_read rss_write pss_write
# uss_write" (MiB), one row per parent size, NaN = not measured.
# usage: gnuplot -e "in='spawn_memory.tsv'; out='spawn_memory'; subtitle='...'" plots/spawn_memory.gp
if (!exists("in")) in = 'spawn_memory.tsv'
if (!exists("out")) out = 'spawn_memory'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# The chapter's figure for a Python worker, in MiB.
py_lo = 10e6 / 2**20
py_hi = 20e6 / 2**20

# One pass over the file (header row included, as line 0): count the rows and the values of
# each series, find the range of both axes. An empty series gets no key entry, and a file with
# no value gets a figure that says so instead of a gnuplot error.
rows = 0; values = 0; lo = NaN; hi = NaN; xmin = NaN; xmax = NaN
array n[7]
do for [i = 1:7] { n[i] = 0 }
count(c) = (valid(c) && column(c) > 0 ? (n[c] = n[c] + 1, values = values + 1) : 0, 0)
span(v) = (v == v && v > 0 ? (lo = lo == lo && lo < v ? lo : v, \
                              hi = hi == hi && hi > v ? hi : v) : 0)
xspan(v) = (v == v ? (xmin = xmin == xmin && xmin < v ? xmin : v, \
                      xmax = xmax == xmax && xmax > v ? xmax : v) : 0)
set table $prepass
plot in using ($0 == 0 ? 0 : (rows = rows + 1, xspan(valid(1) ? $1 : NaN), \
                              sum [c = 2:7] (count(c) + span(column(c))))):(0) with table
unset table
undefine $prepass

# A NaN in a column named in "using" drops the whole row, so values are read through this.
mib(c) = valid(c) && column(c) > 0 ? column(c) : NaN
fmt_mib(v) = v < 1 ? sprintf("%.0f KiB", v * 1024) : v < 10 ? sprintf("%.1f MiB", v) : \
             sprintf("%.0f MiB", v)

set title "Memory of a forked worker: copy-on-write shares what it reads, copies what it " . \
          "writes\n{/*0.8 ".subtitle."}"
set ylabel "MiB of the worker (log scale)"
set xlabel "MiB the parent filled before fork (a tic per size measured)"
set label 2 "RSS counts shared pages in full; PSS divides them among the sharers; USS " . \
            "(private pages) is what the worker's exit frees.\nThe writing worker writes one " . \
            "byte per page, as CPython's reference counts do to every object it touches." \
            at screen 0.5, screen 0.125 center
set ytics nomirror ("0.001" 1e-3, "0.01" 1e-2, "0.1" 0.1, "1" 1, "10" 10, "100" 100, \
                    "1000" 1e3, "10 000" 1e4, "100 000" 1e5)
do for [e = -4:5] { do for [m = 2:9] { set ytics add ("" m * 10.0**e 1) } }
set xtics nomirror
set grid ytics xtics lt 1 lw 1 lc rgb "#e4e4e4"
set border 3
set bmargin at screen 0.27
set rmargin 4
set key at screen 0.5, screen 0.005 center bottom horizontal reverse Left samplen 3 width -2 \
    maxrows 2
# The chapter's Python worker, as a band to compare the USS lines with.
set object 1 rectangle from graph 0, first py_lo to graph 1, first py_hi behind \
    fillstyle solid 0.3 noborder fillcolor rgb "#f2c14e"
set label 3 "a Python worker in the chapter: 10-20 MB" at graph 0.99, first sqrt(py_lo * py_hi) \
    right front tc rgb "#7a5a00"

colour(c) = c == 2 || c == 5 ? 0x7f7f7f : c == 3 || c == 6 ? 0x1f77b4 : 0xd62728
name(c) = c == 2 || c == 5 ? "RSS" : c == 3 || c == 6 ? "PSS" : "USS"
title_of(c) = n[c] == 0 ? "" : name(c) . (c <= 4 ? ", worker reads" : ", worker writes")

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1000,600 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1000,600 font "sans,10" dynamic
        set output out.".svg"
    }
    if (values == 0) {
        unset logscale y
        unset xtics
        unset ytics
        unset xlabel
        unset label 2
        unset label 3
        unset object 1
        unset key
        set bmargin
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no worker memory measured in ".in at graph 0.5, graph 0.5 center noenhanced
        plot -1 notitle
    } else {
        set logscale y
        lo = lo < py_lo ? lo : py_lo
        hi = hi > py_hi ? hi : py_hi
        set yrange [10.0**floor(log10(lo / 2.2)) * 0.999:10.0**ceil(log10(hi * 1.5)) * 1.001]
        pad = xmax > xmin ? (xmax - xmin) * 0.04 : 1
        set xrange [xmin - pad:xmax + pad]
        # Dashed writers first, so a solid reader drawn over the same values stays visible;
        # open squares around filled circles show both where they coincide. The key lists
        # them by measure (columns) and worker (rows) instead.
        plot in using 1:(NaN):xtic(1) notitle, \
             for [c = 5:7] '' using 1:(mib(c)) with linespoints dt 2 lw 2 pt 4 ps 1.6 \
                lc rgb colour(c) notitle, \
             for [c = 2:4] '' using 1:(mib(c)) with linespoints dt 1 lw 2 pt 7 ps 1.0 \
                lc rgb colour(c) notitle, \
             for [k = 0:5] keyentry with linespoints dt 1 + k % 2 lw 2 \
                pt (k % 2 ? 4 : 7) ps (k % 2 ? 1.6 : 1.0) lc rgb colour(2 + k / 2) \
                title title_of(2 + k / 2 + 3 * (k % 2)), \
             '' using 1:(mib(4) / 1.9):(fmt_mib($4)) with labels font ",9" tc rgb "#d62728" \
                notitle, \
             '' using 1:(mib(7) * 1.9):(fmt_mib($7)) with labels font ",9" tc rgb "#d62728" \
                notitle
    }
    set output
}
