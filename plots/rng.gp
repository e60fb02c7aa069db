# SPDX-License-Identifier: MIT
# Random numbers drawn per second by N threads, sharing one generator behind a mutex (the
# chapter's threads drawing from one generator in series) or each with its own: median bars
# with min..max whiskers. Input: TSV with a header row "label median_mnps min_mnps max_mnps"
# (million numbers per second; labels like "locked-shared, 2 threads"), NaN = not measured.
# usage: gnuplot -e "in='rng.tsv'; out='rng'; subtitle='...'" plots/rng.gp
if (!exists("in")) in = 'rng.tsv'
if (!exists("out")) out = 'rng'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# One pass over the file (the header row is line 0) to count the rows, the measured medians
# per kind and the largest whisker: an empty series gets no key entry, and a file with no
# median gets a figure that says so instead of a gnuplot error.
rows = 0; medians = 0; n_locked = 0; n_own = 0; hi = 0
is_locked(s) = strstrt(s, "locked") == 1
# Values are read through strcol: a NaN cell must give a bar marked "n/a", not a dropped row.
isnum(s) = s ne "" && s ne "NaN" && s ne "nan"
num(c) = isnum(strcol(c)) ? strcol(c) + 0 : NaN
valid_num(c) = isnum(strcol(c))
upd(v) = (v == v && v > hi ? hi = v : 0)
set table $prepass
plot in using ($0 == 0 ? 0 : (rows = rows + 1, medians = medians + valid_num(2), \
                              n_locked = n_locked + (valid_num(2) && is_locked(strcol(1))), \
                              n_own = n_own + (valid_num(2) && !is_locked(strcol(1))), \
                              upd(num(2)), upd(num(4)))):(0) \
     with table
unset table
undefine $prepass

# The bars of a kind, NaN elsewhere (a NaN in "using" drops just that point).
median_if(locked) = is_locked(strcol(1)) == locked ? num(2) : NaN
# A missing whisker end collapses onto the median rather than dropping the bar. The whiskers
# are drawn as vectors with flat heads: yerrorbars would cut a gap around a median point.
lo_end(c) = valid_num(c) ? num(c) : num(2)
# "locked-shared, 2 threads" as two lines under its bar, so that six labels fit side by side.
two_lines(s) = (p = strstrt(s, ", "), p ? s[1:p - 1]."\n".s[p + 2:] : s)
# The number above each bar, sized to fit: 3 significant digits.
fmt_m(v) = v != v ? "n/a" : v < 10 ? sprintf("%.2f", v) : v < 100 ? sprintf("%.1f", v) : \
           sprintf("%.0f", v)

set datafile columnheaders
set title "Random numbers drawn per second by N threads: one locked generator vs one each\n" . \
          "{/*0.8 ".subtitle."}"
set ylabel "million numbers per second (higher is better)"
set xlabel "generator and threads.  Bar: median of the runs; whisker: min..max; " . \
           "number: median" offset 0, -1
set xtics noenhanced scale 0 nomirror
set ytics nomirror
set grid ytics lt 1 lw 1 lc rgb "#e4e4e4"
set border 3
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.6
set key top left Left reverse samplen 1.5 box lc rgb "#cccccc"

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1000,600 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1000,600 font "sans,10" dynamic
        set output out.".svg"
    }
    if (medians == 0) {
        unset xtics
        unset ytics
        unset xlabel
        unset key
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no generator throughput measured in ".in at graph 0.5, graph 0.5 center \
            noenhanced
        plot -1 notitle
    } else {
        set xrange [-0.6:rows - 0.4]
        # Headroom above the tallest whisker for its number and for the key.
        set yrange [0:hi * 1.22]
        plot in using 0:(NaN):xtic(two_lines(strcol(1))) notitle, \
             '' using 0:(median_if(1)) with boxes lc rgb "#d62728" \
                title (n_locked ? "one generator behind a mutex, drawn in turn " . \
                                  "(locked-shared)" : ""), \
             '' using 0:(median_if(0)) with boxes lc rgb "#1f77b4" \
                title (n_own ? "a generator per thread, jumped apart (per-thread)" : ""), \
             '' using 0:(lo_end(3)):(0):(lo_end(4) - lo_end(3)) \
                with vectors heads size screen 0.008, 90 lw 1.5 lc rgb "#222222" notitle, \
             '' using 0:(valid_num(2) ? lo_end(4) : 0):(fmt_m(num(2))) with labels \
                offset 0, 0.8 font ",9" tc rgb "#333333" notitle
    }
    set output
}
