# Shared by the install, uninstall and mirror-preparation scripts: running a
# command that changes the system, or under --dry-run only printing it.
# The sourcing script sets DRY_RUN to 0 or 1.

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
