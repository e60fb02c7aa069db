# SPDX-License-Identifier: MIT
# Redis over a Unix socket and over TCP loopback, ipclab's client beside redis-benchmark on
# the same server: requests per second by pipeline depth (left, one client), and the Unix/TCP
# ratio by depth for every client count (right). The chapter: about 1.5x without a pipeline
# (C17), less with long pipelines (C18). A client far below redis-benchmark measures itself,
# not the transport: the left panel shows whether it is.
# Input: in = TSV "pipeline <client> <transport> c<C> ..." (requests/s, server on the other
# core), ratio = TSV "pipeline <client> c<C> ..." (Unix/TCP); one row per depth, NaN = not
# measured; the columns present vary.
# usage: gnuplot -e "in='redis_bench.tsv'; ratio='redis_bench_ratio.tsv'; out='redis_bench'; \
#        subtitle='...'" plots/redis_bench.gp
if (!exists("in")) in = 'redis_bench.tsv'
if (!exists("ratio")) ratio = 'redis_bench_ratio.tsv'
if (!exists("out")) out = 'redis_bench'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"
set datafile missing "NaN"

# For each file: its headers, how many values each column has, the ranges. Header row
# included (line 0), so that a header-only file still has a point and gives no warning.
array hd[64]
array n[64]
array rhd[64]
array rn[64]
do for [i = 1:64] { hd[i] = ""; n[i] = 0; rhd[i] = ""; rn[i] = 0 }
ok(c) = valid(c) && column(c) > 0
lo = NaN; hi = NaN; rlo = NaN; rhi = NaN; dmax = NaN
span(v) = (lo = lo == lo && lo < v ? lo : v, hi = hi == hi && hi > v ? hi : v, 0)
rspan(v) = (rlo = rlo == rlo && rlo < v ? rlo : v, rhi = rhi == rhi && rhi > v ? rhi : v, 0)
dspan(v) = (v == v ? (dmax = dmax == dmax && dmax > v ? dmax : v) : 0, 0)

ncols = 1
rows = 0
set table $prepass
plot in using ($0 == 0 ? 0 : (rows = rows + 1, 0)):(0) with table
unset table
if (rows > 0) { stats in using 1 nooutput; ncols = STATS_columns }
tally(c) = (ok(c) ? (n[c] = n[c] + 1, span(column(c))) : 0, 0)
if (rows > 0 && ncols >= 2 && ncols <= 64) {
    set table $prepass
    plot in using ($0 == 0 ? sum [c = 2:ncols] (hd[c] = strcol(c), 0) \
                           : (dspan(ok(1) ? $1 : NaN), sum [c = 2:ncols] tally(c))):(0) \
        with table
    unset table
}
rcols = 1
rrows = 0
set table $prepass
plot ratio using ($0 == 0 ? 0 : (rrows = rrows + 1, 0)):(0) with table
unset table
if (rrows > 0) { stats ratio using 1 nooutput; rcols = STATS_columns }
rtally(c) = (ok(c) ? (rn[c] = rn[c] + 1, rspan(column(c))) : 0, 0)
if (rrows > 0 && rcols >= 2 && rcols <= 64) {
    set table $prepass
    plot ratio using ($0 == 0 ? sum [c = 2:rcols] (rhd[c] = strcol(c), 0) \
                              : sum [c = 2:rcols] rtally(c)):(0) with table
    unset table
}
undefine $prepass

# Left: one client only (the chapter's single connection); right: every ratio column.
left = ""
do for [c = 2:64] { left = n[c] > 0 && word(hd[c], 3) eq "c1" ? left . " " . c : left }
right = ""
do for [c = 2:64] { right = rn[c] > 0 ? right . " " . c : right }

# One colour per client, a dash per transport (left) or client count (right), everywhere.
colour(s) = s eq "ipclab" ? "#1f77b4" : s eq "redis-benchmark" ? "#d62728" : "#7f7f7f"
point(s) = s eq "ipclab" ? 7 : 5
dash(t) = t eq "unix" ? 1 : t eq "tcp" ? 2 : t eq "c1" ? 1 : t eq "c2" ? 3 : 2
count_of(t) = t[2:]

set grid ytics xtics lt 1 lw 1 lc rgb "#e4e4e4"
set border 3
set xtics nomirror ("1" 1, "2" 2, "4" 4, "8" 8, "16" 16, "32" 32, "64" 64, "128" 128, \
                    "256" 256, "512" 512, "1024" 1024)
set ytics nomirror

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1100,560 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1100,560 font "sans,10" dynamic
        set output out.".svg"
    }
    set multiplot title "Redis over a Unix socket vs TCP loopback, by pipeline depth: ipclab's " . \
        "client and redis-benchmark on the same server\n{/*0.8 " . subtitle . \
        "; server on the other core}"
    # Left panel
    set origin 0, 0.0
    set size 0.5, 0.92
    set lmargin 10
    set title "requests per second, one client"
    set xlabel "pipeline depth (requests in flight, log scale)"
    set ylabel "requests per second (log scale; higher is better)"
    set key top left Left reverse samplen 4 noenhanced
    if (words(left) == 0) {
        unset logscale
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no redis-bench results in this run" at graph 0.5, graph 0.5 center
        plot -1 notitle
        unset label 1
    } else {
        set logscale x 2
        set logscale y
        set xrange [0.8:dmax * 1.25]
        set yrange [10.0**floor(log10(lo)):10.0**ceil(log10(hi * 1.01))]
        set format y "%.0s%c"
        plot for [i = 1:words(left)] in using 1:(column(int(word(left, i)))) \
                 with linespoints lw 2 dt dash(word(hd[int(word(left, i))], 2)) \
                 pt point(word(hd[int(word(left, i))], 1)) ps 1.1 \
                 lc rgb colour(word(hd[int(word(left, i))], 1)) \
                 title hd[int(word(left, i))]
        set format y
    }
    # Right panel
    set origin 0.5, 0.0
    set size 0.5, 0.92
    set title "Unix / TCP requests per second, by client count"
    set key top right Right noreverse samplen 4 noenhanced
    set ylabel "Unix / TCP (1 = no advantage)"
    unset logscale y
    if (words(right) == 0) {
        unset logscale
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no redis-bench ratio in this run" at graph 0.5, graph 0.5 center
        plot -1 notitle
        unset label 1
    } else {
        set logscale x 2
        set xrange [0.8:dmax * 1.25]
        y0 = rlo < 0.9 ? rlo - 0.05 : 0.9
        y1 = rhi > 1.6 ? rhi + 0.05 : 1.6
        set yrange [y0:y1]
        set arrow 1 from graph 0, first 1.5 to graph 1, first 1.5 nohead lc rgb "#444444" dt 2
        set label 2 "the chapter: about 1.5x" at graph 0.98, first 1.5 right offset 0, -0.7 \
            tc rgb "#444444"
        set arrow 2 from graph 0, first 1 to graph 1, first 1 nohead lc rgb "#999999"
        plot for [i = 1:words(right)] ratio using 1:(column(int(word(right, i)))) \
                 with linespoints lw 2 dt dash(word(rhd[int(word(right, i))], 2)) \
                 pt point(word(rhd[int(word(right, i))], 1)) ps 1.1 \
                 lc rgb colour(word(rhd[int(word(right, i))], 1)) \
                 title rhd[int(word(right, i))]
        unset arrow 1
        unset arrow 2
        unset label 2
    }
    unset multiplot
    set output
}
