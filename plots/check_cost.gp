# SPDX-License-Identifier: MIT
# Cost of one check of a clear flag, per backend: the median over runs with the min..max
# whisker, coloured by how the check is made, with the contended costs beside it.
# Input: TSV with a header row "label kind median_ns min_ns max_ns false_sharing_ns poller_ns",
# one row per backend sorted by median (kind: baseline, inline, dispatch or server; the two
# contended columns are medians too), NaN = not measured.
# usage: gnuplot -e "in='check.tsv'; out='check_cost'; subtitle='...'" plots/check_cost.gp
if (!exists("in")) in = 'check.tsv'
if (!exists("out")) out = 'check_cost'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# One pass over the file (header row included, as line 0) to count what there is to draw and
# find the range of the values: an empty series gets no key entry, and a file with no median
# gets a figure that says so instead of a gnuplot error.
rows = 0; medians = 0; n_fs = 0; n_poll = 0; lo = NaN; hi = NaN
n_baseline = 0; n_inline = 0; n_dispatch = 0; n_server = 0; n_other = 0
known(k) = (k eq "baseline" || k eq "inline" || k eq "dispatch" || k eq "server")
tally(k, ok) = (n_baseline = n_baseline + (ok && k eq "baseline"), \
                n_inline = n_inline + (ok && k eq "inline"), \
                n_dispatch = n_dispatch + (ok && k eq "dispatch"), \
                n_server = n_server + (ok && k eq "server"), \
                n_other = n_other + (ok && !known(k)), 0)
span(v) = (v == v && v > 0 ? (lo = lo == lo && lo < v ? lo : v, \
                              hi = hi == hi && hi > v ? hi : v) : 0)
set table $prepass
plot in using ($0 == 0 ? 0 : (rows = rows + 1, medians = medians + valid(3), \
                              n_fs = n_fs + valid(6), n_poll = n_poll + valid(7), \
                              tally(strcol(2), valid(3)), \
                              sum [c = 3:7] span(column(c)))):(0) with table
unset table
undefine $prepass

# A NaN in a column named in "using" drops the whole row, so the optional columns are read
# through these, and only when valid.
median(kind) = strcol(2) eq kind ? column(3) : NaN
median_other(kind) = known(kind) ? NaN : column(3)
whisker(c) = valid(c) ? column(c) : column(3)
below_whisker(v) = (valid(4) && column(4) > 0 ? column(4) : v) / 2.4
# The number under each point: ns up to 1 us, then us, so that each fits its column.
fmt_ns(v) = v < 10 ? sprintf("%.2g", v) : v < 1000 ? sprintf("%.0f", v) : \
            v < 1e5 ? sprintf("%.1f µs", v / 1000.0) : sprintf("%.0f µs", v / 1000.0)
# The contended markers sit about 15 pixels either side of their backend's point.
dx = rows > 17 ? 0.3 : 0.3 * (rows + 0.4) / 17.4

set datafile columnheaders
set title "Cost of one check of a clear flag, by backend\n{/*0.8 ".subtitle."}"
set ylabel "ns per check (log scale; lower is better)"
set label 2 "flag backend, sorted by median.  Point: median; whisker: min..max of the runs; " . \
            "number: median (ns, or µs where marked)" at screen 0.5, screen 0.11 center
set xtics rotate by 35 right noenhanced scale 0 nomirror
# A labelled tic per decade in plain numbers (gnuplot would write 1e+06), minor tics at 2..9
# times each; the range is whole decades around the data and the numbers under the points.
set ytics nomirror ("0.0001" 1e-4, "0.001" 1e-3, "0.01" 1e-2, "0.1" 0.1, "1" 1, "10" 10, \
                    "100" 100, "1000" 1e3, "10 000" 1e4, "100 000" 1e5, "1 000 000" 1e6, \
                    "10 000 000" 1e7, "100 000 000" 1e8, "1 000 000 000" 1e9)
do for [e = -5:9] { do for [m = 2:9] { set ytics add ("" m * 10.0**e 1) } }
set grid ytics lt 1 lw 1 lc rgb "#e4e4e4"
set bars 2
set border 3
# A fixed bottom margin for the rotated labels (gnuplot reserves too much for them), the
# axis note and a key of up to three rows under it, clear of the data.
set bmargin at screen 0.33
set rmargin 3
set key at screen 0.5, screen 0.005 center bottom horizontal reverse Left samplen 1.5 width -3

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
        unset key
        set bmargin
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no check cost measured in ".in at graph 0.5, graph 0.5 center noenhanced
        plot -1 notitle
    } else {
        set logscale y
        set xrange [-0.7:rows - 0.3]
        set yrange [10.0**floor(log10(lo / 2.4 / 1.5)) * 0.999:10.0**ceil(log10(hi * 1.2)) * 1.001]
        plot in using 0:(NaN):xtic(1) notitle, \
             '' using 0:(median("baseline")):(whisker(4)):(whisker(5)) with yerrorbars \
                pt 5 ps 1.1 lw 1.5 lc rgb "#888888" \
                title (n_baseline ? "baseline: no check / dispatch only" : ""), \
             '' using 0:(median("inline")):(whisker(4)):(whisker(5)) with yerrorbars \
                pt 7 ps 1.1 lw 1.5 lc rgb "#1f77b4" \
                title (n_inline ? "inline: a load in the loop" : ""), \
             '' using 0:(median("dispatch")):(whisker(4)):(whisker(5)) with yerrorbars \
                pt 9 ps 1.2 lw 1.5 lc rgb "#ff7f0e" \
                title (n_dispatch ? "dispatch: a call per check" : ""), \
             '' using 0:(median("server")):(whisker(4)):(whisker(5)) with yerrorbars \
                pt 13 ps 1.3 lw 1.5 lc rgb "#d62728" \
                title (n_server ? "server: a round trip per check" : ""), \
             '' using 0:(median_other(strcol(2))):(whisker(4)):(whisker(5)) with yerrorbars \
                pt 11 ps 1.2 lw 1.5 lc rgb "#8c564b" \
                title (n_other ? "other kind" : ""), \
             '' using ($0 - dx):6 with points pt 2 ps 1.1 lw 2 lc rgb "#9467bd" \
                title (n_fs ? "contended: other CPU writes the line" : ""), \
             '' using ($0 + dx):7 with points pt 1 ps 1.3 lw 2 lc rgb "#2ca02c" \
                title (n_poll ? "contended: other CPU polls the flag" : ""), \
             '' using 0:(below_whisker($3)):(fmt_ns($3)) with labels font ",8" tc rgb "#444444" \
                notitle
    }
    set output
}
