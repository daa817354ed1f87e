# The notebook half of `scripts/check_wheel.sh --notebooks`, sourced by it once the wheel is
# built and installed (with ipykernel, without the notebooks extra) in $WORK/venv; reads
# $ROOT, $WORK, $WHEEL, $VPY, $PYTHON and step() from it, and exits with the check's status.
# Arguments: [--plain-only] [RUNNER ARGS...].
PLAIN_ONLY=0
if [ "${1:-}" = --plain-only ]; then
    PLAIN_ONLY=1
    shift
fi
mkdir "$WORK/notebooks" "$WORK/jupyter-data" "$WORK/ipython"
cp "$ROOT"/notebooks/*.ipynb "$WORK/notebooks/"
export JUPYTER_PATH="$WORK/kernels/share/jupyter" JUPYTER_DATA_DIR="$WORK/jupyter-data"
export JUPYTER_CONFIG_DIR="$WORK/jupyter-data" IPYTHONDIR="$WORK/ipython"
"$VPY" -m ipykernel install --prefix "$WORK/kernels" --name bayes_mmm_plain >/dev/null

step "virtualenv $WORK/venv-nb: the wheel with its [notebooks] extra"
$PYTHON -m venv "$WORK/venv-nb"
NBPY="$WORK/venv-nb/bin/python"
"$NBPY" -m pip install -q --no-compile "bayes_mmm[notebooks] @ file://$WHEEL"
"$NBPY" -m ipykernel install --prefix "$WORK/kernels" --name bayes_mmm_extra >/dev/null
RUNNER=("$NBPY" "$ROOT/scripts/run_notebooks_full.py" --notebooks "$WORK/notebooks")

step "plain install: each notebook stops in its first cell (kernel $VPY)"
status=0
"${RUNNER[@]}" --plain --kernel bayes_mmm_plain --out "$WORK/plain" "$@" || status=1
step "plain install: exit $status"
if [ "$PLAIN_ONLY" = 0 ]; then
    size=--ci words="at CI size"
    [ "${FULL:-0}" = 1 ] && size= words="at the notebooks' defaults"
    step "with the extra: every cell runs $words (kernel $NBPY)"
    "${RUNNER[@]}" $size --kernel bayes_mmm_extra --installed-in "$WORK/venv-nb" \
        --out "$WORK/extra" "$@" || status=1
    cat "$WORK/extra/SUMMARY.md"
    step "with the extra: summary $WORK/extra/SUMMARY.md, executed notebooks $WORK/extra/executed"
fi
step "notebooks against the wheel: exit $status"
exit $status
