# SPDX-License-Identifier: MIT
# The cost model against the sweep: how long a raised flag takes to stop the search, checked
# every K candidates, as measured (points) and as the model predicts it, K * w / 2 + r (lines),
# one colour per backend.
# Input: TSV with a header row "check_every <backend> measured <backend> predicted ...", one
# row per K, each cell a stop latency in microseconds on a composite (worker 1 is stopped by
# the flag); NaN = not measured. The columns come in pairs, measured then predicted; any
# number of pairs.
# usage: gnuplot -e "in='model_stop.tsv'; out='model_stop'; subtitle='...'" plots/model_stop.gp
if (!exists("in")) in = 'model_stop.tsv'
if (!exists("out")) out = 'model_stop'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# Two passes over the file (header row included, as line 0): the first counts the columns,
# the second keeps each column's name and number of values, the range of x and y, and how
# many measured cells are at or below 0.
ncols = 0
set table $prepass
plot in using ($0 == 0 ? ncols = int($#) : 0):(0) with table
unset table
ncols = ncols < 1 ? 1 : ncols
array name[ncols]
array count[ncols]
do for [c = 1:ncols] { name[c] = ""; count[c] = 0 }
xlo = NaN; xhi = NaN; ylo = NaN; yhi = NaN; points = 0; dropped = 0
xspan(v) = (v == v && v > 0 ? (xlo = xlo == xlo && xlo < v ? xlo : v, \
                              xhi = xhi == xhi && xhi > v ? xhi : v) : 0)
yspan(v) = (v == v && v > 0 ? (ylo = ylo == ylo && ylo < v ? ylo : v, \
                              yhi = yhi == yhi && yhi > v ? yhi : v, points = points + 1) : 0)
# Measured columns are the even ones (2, 4, ...), their predictions the odd ones after them.
measured(c) = (c % 2 == 0)
# A cell counts when it is a positive number on a row whose K is positive (a log axis each).
# A stop latency of 0 or less would be a broken clock, not a measurement; a log axis cannot
# show it either, so it is counted and named under the plot instead.
cell(c) = (valid(c) && valid(1) && $1 > 0 ? \
           (column(c) > 0 ? (count[c] = count[c] + 1, yspan(column(c))) : \
            (measured(c) ? dropped = dropped + 1 : 0)) : 0)
set table $prepass
plot in using ($0 == 0 ? sum [c = 2:ncols] (name[c] = strcol(c), 0) : \
               (xspan(valid(1) ? $1 : NaN), sum [c = 2:ncols] cell(c))):(0) with table
unset table
undefine $prepass

# Plain numbers with a space between thousands, up to 10^9 (gnuplot would write 1e+06).
plain(v) = v >= 1e6 ? sprintf("%d %03d %03d", int(v / 1e6), int(v / 1e3) % 1000, int(v) % 1000) : \
           v >= 1e4 ? sprintf("%d %03d", int(v / 1e3), int(v) % 1000) : sprintf("%g", v)

set datafile columnheaders
set title "The cost model vs the sweep: stop latency (a composite: a worker must be stopped)" . \
          "\n{/*0.8 measured = points, predicted K·w/2 + r = lines, " . \
          "one colour per backend; ".subtitle."}"
set xlabel "check the flag every K candidates (log scale)"
set ylabel "raise to last worker stopped (µs, log scale; lower is better)"
set logscale xy
# x: a labelled tic per decade; y: labelled tics at 1, 2 and 5 per decade, minor tics between,
# or at 1 only when the data spans more than five decades (a model's line over K = 1 to 10^6
# does: the labels would overlap).
set xtics nomirror ("1" 1)
do for [e = 1:9] { set xtics add (plain(10.0**e) 10.0**e 0) }
do for [e = 0:8] { do for [m = 2:9] { set xtics add ("" m * 10.0**e 1) } }
dense = !(points > 0 && yhi / ylo > 1e5)
set ytics nomirror ("1e-06" 1e-6)
do for [e = -6:8] { do for [m = (e == -6 ? 2 : 1):9] {
    v = m * 10.0**e
    if (m == 1 || dense && (m == 2 || m == 5)) { set ytics add (plain(v) v 0) } \
    else { set ytics add ("" v 1) }
} }
set border 3
set grid xtics ytics lt 1 lw 1 lc rgb "#e4e4e4"
set key outside right top vertical reverse Left samplen 3 spacing 1.2 \
    title "points: measured\nlines: predicted" noenhanced

# Sixteen colours, one per backend (its measured and predicted columns share it); past them
# the cycle repeats with dashed lines.
array colour[16] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", \
                    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#b8860b", \
                    "#393b79", "#637939", "#843c39", "#7b4173"]
array shape[16] = [7, 5, 9, 13, 11, 6, 4, 8, 12, 10, 1, 2, 15, 14, 3, 7]
do for [i = 1:16] { set linetype i lc rgb colour[i] pt shape[i] ps 1.3 lw 2 dt solid }
do for [i = 17:32] { set linetype i lc rgb colour[i - 16] pt shape[i - 16] ps 1.3 lw 2 dt 2 }
# The backend's style: columns 2 and 3 are the first backend, 4 and 5 the second, ...
style(c) = int((c - 2) / 2) % 32 + 1
# A column's title. gnuplot evaluates it even for an empty iteration (a measured column with
# no predicted one after it, ncols = 2, still asks for column 3): past the last column, none.
title(c) = c > ncols ? "" : count[c] ? name[c] : name[c]." (no data)"

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1000,600 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1000,600 font "sans,10" dynamic
        set output out.".svg"
    }
    if (points == 0) {
        unset logscale xy
        unset xtics
        unset ytics
        unset grid
        unset key
        set xrange [0:1]
        set yrange [0:1]
        columns = ""
        do for [c = 2:ncols] { columns = columns.(c > 2 ? ", " : "").name[c] }
        set label 1 "no stop latency measured or predicted in ".in. \
            (ncols > 1 ? "\n(columns, all empty or at most 0: ".columns.")" : "") \
            at graph 0.5, graph 0.5 center noenhanced
        plot -1 notitle
        unset label 1
    } else {
        set xrange [xlo / 1.6:xhi * 1.6]
        set yrange [ylo / 1.4:yhi * 1.25]
        if (dropped > 0) {
            set label 4 sprintf("%d measured point%s at or below 0 µs not shown: " . \
                                "a log axis has no room for them", \
                                dropped, dropped == 1 ? "" : "s") \
                at graph 0, graph 0 left offset 1, 1 front tc rgb "#333333"
        }
        plot for [c = 2:ncols:2] in using 1:(column(c) > 0 ? column(c) : NaN) \
                with points lt style(c) \
                title title(c) noenhanced, \
             for [c = 3:ncols:2] in using 1:(column(c) > 0 ? column(c) : NaN) \
                with lines lt style(c) \
                title title(c) noenhanced
        unset label 4
    }
    set output
}
