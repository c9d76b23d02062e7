# Shared by the install, uninstall and mirror-preparation scripts: running a
# command that changes the system (or under --dry-run only printing it), and
# checking the install layout arguments. The sourcing script sets DRY_RUN.

# Shell-quoted command line, so a printed plan can be pasted and run.
quote() {
  local out
  printf -v out '%q ' "$@"
  echo "${out% }"
}

# Runs a command, or only prints it under --dry-run.
run() {
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "would run: $(quote "$@")"
  else
    echo "+ $(quote "$@")"
    "$@"
  fi
}

# Checks PREFIX and CONFIG_DIR (absolute, not /, no spaces) and resolves
# ROOT to an absolute path; $1 names the script in error messages.
check_layout_args() {
  local script="$1" dir
  for dir in "$PREFIX" "$CONFIG_DIR"; do
    if [[ "$dir" != /* || "$dir" == / || "$dir" == *' '* ]]; then
      echo "$script: E_ARG_INVALID: $dir must be an absolute path, not /" >&2
      exit 2
    fi
  done
  if [ -n "$ROOT" ]; then
    ROOT="$(cd "$ROOT" 2>/dev/null && pwd)" || {
      echo "$script: E_ARG_INVALID: --root directory does not exist" >&2
      exit 2
    }
  fi
}
