# SPDX-License-Identifier: MIT
# Pi by Monte Carlo with one worker: one sample at a time vs blocks of samples in arrays (the
# chapter's numpy lesson), per mode, with the batch/per-sample ratio over each pair.
# Input: TSV with a header row "mode per_sample batch" (million samples per second, 1 worker),
# one row per mode; NaN = not measured.
# usage: gnuplot -e "in='pi_batch.tsv'; out='pi_batch'; subtitle='...'" plots/pi_batch.gp
if (!exists("in")) in = 'pi_batch.tsv'
if (!exists("out")) out = 'pi_batch'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"

# One pass, header row included (line 0) so a header-only file gives no warning: count the
# rows and values and find the tallest bar.
rows = 0; values = 0; hi = 0
tall(v) = (v == v ? (values = values + 1, hi = v > hi ? v : hi) : 0)
set table $prepass
plot in using ($0 == 0 ? 0 : (rows = rows + 1, tall(column(2)), tall(column(3)))):(0) with table
unset table
undefine $prepass

set datafile columnheaders
ratio(a, b) = a == a && b == b && a > 0 ? sprintf("batch ×%.2f", b / a) : ""
w = 0.36 # bar width; the pair sits either side of the mode's tic

set title "Pi by Monte Carlo, one worker: one sample at a time vs blocks in arrays\n" . \
          "{/*0.8 ".subtitle."}"
set ylabel "million samples per second (higher is better)"
set xlabel "mode (1 worker)"
set style fill solid 0.85 border -1
set boxwidth w absolute
set grid ytics lt 1 lw 1 lc rgb "#e4e4e4"
set border 3
set xtics nomirror scale 0 noenhanced
set ytics nomirror
set key top right samplen 1.5

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1000,600 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1000,600 font "sans,10" dynamic
        set output out.".svg"
    }
    if (values == 0) {
        unset xtics
        unset ytics
        unset key
        set xrange [0:1]
        set yrange [0:1]
        set label 1 "no pi batch comparison measured in ".in at graph 0.5, graph 0.5 center \
            noenhanced
        plot -1 notitle
    } else {
        set xrange [-0.6:rows - 0.4]
        # Room above the bars for their values, the ratio and the key.
        set yrange [0:hi * 1.3]
        plot in using 0:(NaN):xtic(1) notitle, \
             '' using ($0 - w / 2):(valid(2) ? column(2) : NaN) with boxes \
                lc rgb "#888888" title "one sample at a time", \
             '' using ($0 + w / 2):(valid(3) ? column(3) : NaN) with boxes \
                lc rgb "#1f77b4" title "batch: blocks of x, y arrays, then the test", \
             '' using ($0 - w / 2):(valid(2) ? column(2) : NaN):(sprintf("%.0f", column(2))) \
                with labels offset 0, 0.7 font ",9" notitle, \
             '' using ($0 + w / 2):(valid(3) ? column(3) : NaN):(sprintf("%.0f", column(3))) \
                with labels offset 0, 0.7 font ",9" notitle, \
             '' using 0:((valid(2) && valid(3) ? (column(2) > column(3) ? column(2) : column(3)) \
                         : NaN) + hi * 0.09):(ratio(column(2), column(3))) \
                with labels font ",10" tc rgb "#1f4e79" notitle
    }
    set output
}
