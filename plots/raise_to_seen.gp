# SPDX-License-Identifier: MIT
# Raise-to-seen latency per backend (half a ping-pong between the two CPUs): the median over
# runs with the min..max whisker, above the floor of one cache line handed to the other CPU.
# Input: TSV with a header row "label kind median_ns min_ns max_ns", one row per backend sorted
# by median (kind: inline, dispatch or server) and a row of kind "reference", the cache line's
# one-way time; NaN = not measured.
# usage: gnuplot -e "in='raise_to_seen.tsv'; out='raise_to_seen'; subtitle='...'" plots/raise_to_seen.gp
if (!exists("in")) in = 'raise_to_seen.tsv'
if (!exists("out")) out = 'raise_to_seen'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# One pass over the file (header row included, as line 0): count the backend rows and what
# each series has, find the range of the values and keep the first reference row's numbers.
rows = 0; medians = 0; lo = NaN; hi = NaN
have_ref = 0; ref_med = NaN; ref_min = NaN; ref_max = NaN
n_baseline = 0; n_inline = 0; n_dispatch = 0; n_server = 0; n_other = 0
known(k) = (k eq "baseline" || k eq "inline" || k eq "dispatch" || k eq "server")
tally(k, ok) = (n_baseline = n_baseline + (ok && k eq "baseline"), \
                n_inline = n_inline + (ok && k eq "inline"), \
                n_dispatch = n_dispatch + (ok && k eq "dispatch"), \
                n_server = n_server + (ok && k eq "server"), \
                n_other = n_other + (ok && !known(k)), 0)
span(v) = (v == v && v > 0 ? (lo = lo == lo && lo < v ? lo : v, \
                              hi = hi == hi && hi > v ? hi : v) : 0)
reference(ok) = (ok && !have_ref ? (have_ref = 1, ref_med = $3, \
                                    ref_min = valid(4) ? $4 : $3, \
                                    ref_max = valid(5) ? $5 : $3) : 0)
set table $prepass
plot in using ($0 == 0 ? 0 : \
               strcol(2) eq "reference" ? reference(valid(3) && $3 > 0) : \
               (rows = rows + 1, medians = medians + valid(3), tally(strcol(2), valid(3)), \
                sum [c = 3:5] span(column(c)))):(0) with table
unset table
undefine $prepass

# x of a row: the backends are numbered 0, 1, ... in file order; a reference row goes far left
# of the x range, so neither it nor its tic label is drawn.
pos(kind) = ($0 == 0 ? next_x = 0 : 0, kind eq "reference" ? -100 : (next_x = next_x + 1) - 1)
# A NaN in a column named in "using" drops the whole row, so the optional columns are read
# through these, and only when valid.
median(kind) = strcol(2) eq kind ? column(3) : NaN
median_other(kind) = known(kind) || kind eq "reference" ? NaN : column(3)
whisker(c) = valid(c) ? column(c) : column(3)
above_whisker(kind, v) = kind eq "reference" ? NaN : \
                         (valid(5) && column(5) > 0 ? column(5) : v) * 1.7
# The number over each point: ns up to 1 us, then us, so that each fits its column.
fmt_ns(v) = v < 10 ? sprintf("%.2g", v) : v < 1000 ? sprintf("%.0f", v) : \
            v < 1e5 ? sprintf("%.1f µs", v / 1000.0) : sprintf("%.0f µs", v / 1000.0)

set datafile columnheaders
set title "Raise-to-seen latency: one CPU raises the flag, the other sees it\n{/*0.8 ".subtitle."}"
set ylabel "ns from raise to seen (log scale; lower is better)"
set label 2 "flag backend, sorted by median.  Point: median; whisker: min..max of the runs; " . \
            "number: median (ns, or µs where marked)" at screen 0.5, screen 0.11 center
set xtics rotate by 35 right noenhanced scale 0 nomirror
# A labelled tic per decade in plain numbers (gnuplot would write 1e+06), minor tics at 2..9
# times each; the range is whole decades around the data and the numbers over the points.
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
set key at screen 0.5, screen 0.005 center bottom horizontal reverse Left samplen 2.5 width -3
# The floor: a dashed line at the reference median over a band from its min to its max,
# labelled under the right end, where the most expensive backends leave room.
if (have_ref) {
    set object 1 rectangle from graph 0, first ref_min to graph 1, first ref_max behind \
        fillstyle solid 0.25 noborder fillcolor rgb "#bbbbbb"
    set label 3 sprintf("cache line one way: %s ns (the floor)", fmt_ns(ref_med)) \
        at graph 0.99, first ref_med / 1.4 right front tc rgb "#333333"
    lo = ref_min < lo ? ref_min : lo
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
        unset key
        set bmargin
        unset label 3
        unset object 1
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no backend's raise-to-seen latency in ".in. \
            (have_ref ? sprintf("\n(cache line one way: %s ns)", fmt_ns(ref_med)) : "") \
            at graph 0.5, graph 0.5 center noenhanced
        plot -1 notitle
    } else {
        set logscale y
        set xrange [-0.7:rows - 0.3]
        set yrange [10.0**floor(log10(lo / 1.6)) * 0.999:10.0**ceil(log10(hi * 1.7 * 1.6)) * 1.001]
        plot in using (pos(strcol(2))):(NaN):xtic(1) notitle, \
             (have_ref ? ref_med : NaN) with lines dt 2 lw 1.5 lc rgb "#333333" \
                title (have_ref ? "cache line one way" : ""), \
             in using (pos(strcol(2))):(median("baseline")):(whisker(4)):(whisker(5)) \
                with yerrorbars pt 5 ps 1.1 lw 1.5 lc rgb "#888888" \
                title (n_baseline ? "baseline" : ""), \
             '' using (pos(strcol(2))):(median("inline")):(whisker(4)):(whisker(5)) \
                with yerrorbars pt 7 ps 1.1 lw 1.5 lc rgb "#1f77b4" \
                title (n_inline ? "inline: seen by a load" : ""), \
             '' using (pos(strcol(2))):(median("dispatch")):(whisker(4)):(whisker(5)) \
                with yerrorbars pt 9 ps 1.2 lw 1.5 lc rgb "#ff7f0e" \
                title (n_dispatch ? "dispatch: seen through a call" : ""), \
             '' using (pos(strcol(2))):(median("server")):(whisker(4)):(whisker(5)) \
                with yerrorbars pt 13 ps 1.3 lw 1.5 lc rgb "#d62728" \
                title (n_server ? "server: seen through a round trip" : ""), \
             '' using (pos(strcol(2))):(median_other(strcol(2))):(whisker(4)):(whisker(5)) \
                with yerrorbars pt 11 ps 1.2 lw 1.5 lc rgb "#8c564b" \
                title (n_other ? "other kind" : ""), \
             '' using (pos(strcol(2))):(above_whisker(strcol(2), $3)):(fmt_ns($3)) \
                with labels font ",8" tc rgb "#444444" notitle
    }
    set output
}
