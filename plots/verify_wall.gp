# SPDX-License-Identifier: MIT
# End-to-end time of the chapter's five numbers, per flag backend and strategy: the chapter's
# own comparison, redone. Input: TSV with a header row "flag serial pool less-naive" (ms).
# usage: gnuplot -e "in='totals.tsv'; out='verify_wall'; subtitle='...'" plots/verify_wall.gp
if (!exists("in")) in = 'totals.tsv'
if (!exists("out")) out = 'verify_wall'
if (!exists("subtitle")) subtitle = ''

set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics mytics
set key top left
# Log scale: server backends take 10-30x longer than the rest, which a linear axis would flatten.
set logscale y
set format y "%.0f"
set ylabel "wall time of the five numbers (ms, log scale; lower is better)"
set xlabel "flag backend"
set xtics rotate by -30 left
set yrange [100:*]
set title "Verifying the chapter's five numbers\n{/*0.8 ".subtitle."}"

do for [fmt in "pngcairo svg"] {
    if (fmt eq "pngcairo") {
        set terminal pngcairo size 1000,600 font "sans,10"
        set output out.".png"
    } else {
        set terminal svg size 1000,600 font "sans,10" dynamic
        set output out.".svg"
    }
    plot in using 2:xtic(1) title columnheader(2) lc rgb "#888888", \
         '' using 3 title columnheader(3) lc rgb "#1f77b4", \
         '' using 4 title columnheader(4) lc rgb "#ff7f0e"
    set output
}
