# SPDX-License-Identifier: MIT
# N processes incrementing one shared counter four ways: the updates each way loses (left)
# and what one increment costs (right), per variant and number of workers.
# Input: TSV with a header row "variant workers lost_pct ns_per_increment" (medians; lost_pct
# in % of N x M), rows grouped by variant, NaN = not measured.
# usage: gnuplot -e "in='counter.tsv'; out='counter'; subtitle='...'" plots/counter.gp
if (!exists("in")) in = 'counter.tsv'
if (!exists("out")) out = 'counter'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# Bars are placed by hand: variant g (in file order) at x = g, and within it one slot per
# worker count, the same slot and colour for the same count in every variant (a count a variant
# lacks leaves a gap). Each plot clause reads the file again, so the group is recomputed from
# the row order with variables reset at the first data row.
MAXW = 8
array W[MAXW]
nw = 0
rows = 0; groups = 0; ns_n = 0; ns_lo = NaN; ns_hi = NaN
g = -1; prev = ""
ticks = ""
advance(v) = (v ne prev ? (g = g + 1, prev = v) : 0, g)
group_of(v) = ($0 == 0 ? (g = -1, prev = "") : 0, advance(v))
# "locked-get-set" as "locked-" over "get-set": four variant names side by side in a panel
# half the figure wide. (Written into a "set xtics" command, hence the escaped newline.)
two_lines(s) = (p = strstrt(s, "-"), p ? s[1:p]."\\n".s[p + 1:] : s)
# Worker counts seen so far, each once.
slot_of(w) = sum [i = 1:nw] (W[i] == w ? i : 0)
note_workers(w) = (w == w && slot_of(w) == 0 && nw < MAXW ? (nw = nw + 1, W[nw] = w) : 0)
# Read values through strcol: a NaN cell must give "n/a", never a dropped row.
isnum(s) = s ne "" && s ne "NaN" && s ne "nan"
num(c) = isnum(strcol(c)) ? strcol(c) + 0 : NaN
span(v) = (v == v && v > 0 ? (ns_lo = ns_lo == ns_lo && ns_lo < v ? ns_lo : v, \
                              ns_hi = ns_hi == ns_hi && ns_hi > v ? ns_hi : v) : 0)

# One pass: groups and their tick labels, the worker counts, and the range of the times. It
# reads the header row as line 0 and skips it, so that a header-only file is still a file with
# a line to read (no warning; a figure with a note).
set table $prepass
plot in using ($0 == 0 ? 0 : (gg = advance(strcol(1)), rows = rows + 1, \
                              gg == groups ? (groups = groups + 1, \
                                  ticks = ticks . sprintf('%s"%s" %d', gg ? ", " : "", \
                                                          two_lines(strcol(1)), gg)) : 0, \
                              note_workers(num(2)), ns_n = ns_n + isnum(strcol(4)), \
                              span(num(4)), 0)):(0) with table
unset table
undefine $prepass
set datafile columnheaders

# Sort the worker counts so that the slots run 1, 2, 4 from left to right.
if (nw > 1) {
    do for [i = 1:nw - 1] {
        do for [j = 1:nw - i] {
            if (W[j] > W[j + 1]) { tmp = W[j]; W[j] = W[j + 1]; W[j + 1] = tmp }
        }
    }
}
bw = nw > 0 ? 0.8 / nw : 0.8
# The x of a row's bar: its variant's group, its worker count's slot.
xpos(v, w) = group_of(v) + (slot_of(w) - (nw + 1) / 2.0) * bw
# The value of column c for rows of the j-th worker count, NaN elsewhere (one clause a colour).
for_slot(c, j) = num(2) == W[j] ? num(c) : NaN
colour(j) = j == 1 ? "#1f77b4" : j == 2 ? "#ff7f0e" : j == 3 ? "#d62728" : \
            j == 4 ? "#2ca02c" : j == 5 ? "#9467bd" : "#7f7f7f"
workers_title(j) = sprintf("%d worker%s", W[j], W[j] == 1 ? "" : "s")
fmt_pct(v) = v != v ? "n/a" : v == 0 ? "0" : v < 1 ? sprintf("%.2f", v) : sprintf("%.0f", v)
fmt_ns(v) = v != v ? "n/a" : v < 10 ? sprintf("%.1f", v) : sprintf("%.0f", v)

set style fill solid 0.85 border rgb "#333333"
set boxwidth bw * 0.92
set grid ytics lt 1 lw 1 lc rgb "#e4e4e4"
set border 3
set xtics noenhanced scale 0 nomirror
set ytics nomirror
# Top right: the correct variants sit there with no lost updates and the shortest times.
set key top right Left reverse samplen 1.5 box lc rgb "#cccccc" opaque

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1000,600 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1000,600 font "sans,10" dynamic
        set output out.".svg"
    }
    set multiplot layout 1, 2 title "N processes incrementing one shared counter, four ways\n" . \
        "{/*0.8 ".subtitle."}"
    if (rows == 0 || nw == 0) {
        unset xtics
        unset ytics
        unset key
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no counter runs measured in ".in at graph 0.5, graph 0.5 center noenhanced
        plot -1 notitle
        unset label 1
        plot -1 notitle
    } else {
        eval "set xtics (".ticks.")"
        set xrange [-0.6:groups - 0.4]
        # Room under both panels (the same, so that their axes line up) for what each variant
        # does, written once, across the figure.
        set bmargin 7
        set label 2 "unsynchronised: load, store (RawValue += 1).      locked-get-set: lock, " . \
            "load, unlock; lock, store, unlock (Value += 1).\nlocked-rmw: lock, load, store, " . \
            "unlock (with get_lock()).      atomic: one fetch-and-add.      " . \
            "M = increments per worker." at screen 0.5, screen 0.045 center font ",9" noenhanced

        # Left: lost updates. Every bar carries its number, so a measured 0 reads as 0.
        set title "updates lost (higher is worse)"
        set ylabel "lost updates, % of N x M increments"
        set xlabel "variant" offset 0, -0.8
        unset logscale y
        set yrange [0:100 * 1.15]
        set ytics 0, 20, 100
        plot for [j = 1:nw] in using (xpos(strcol(1), num(2))):(for_slot(3, j)) with boxes \
                 lc rgb colour(j) title workers_title(j), \
             in using (xpos(strcol(1), num(2))):(isnum(strcol(3)) ? num(3) : 0):(fmt_pct(num(3))) \
                 with labels offset 0, 0.7 font ",8" tc rgb "#333333" notitle
        unset label 2

        # Right: the time of one increment, all workers together (wall time / N x M).
        set title "time per increment (lower is better)"
        set ylabel "ns per increment (log scale)"
        set logscale y
        set ytics auto
        set mytics 10
        ns_floor = ns_n > 0 ? 10.0**floor(log10(ns_lo)) : 1
        set yrange [ns_floor : ns_n > 0 ? 10.0**ceil(log10(ns_hi * 2)) : 10]
        # An unmeasured time gets its "n/a" on the axis.
        plot for [j = 1:nw] in using (xpos(strcol(1), num(2))):(for_slot(4, j)) with boxes \
                 lc rgb colour(j) title workers_title(j), \
             in using (xpos(strcol(1), num(2))):(isnum(strcol(4)) ? num(4) : ns_floor) \
                 :(fmt_ns(num(4))) with labels offset 0, 0.7 font ",8" tc rgb "#333333" notitle
    }
    unset multiplot
    set output
}
