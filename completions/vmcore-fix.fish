# fish completion for vmcore-fix; keep in step with src/options.c.
complete -c vmcore-fix -s i -l inspect -d 'Print what the dump is and what is wrong with it'
complete -c vmcore-fix -s o -l output -r -F -d 'Write the fixed dump to FILE'
complete -c vmcore-fix -l output-format -x -a 'same raw flattened' -d 'Form of the output'
complete -c vmcore-fix -l in-place -d 'Patch DUMP itself, journaled'
complete -c vmcore-fix -l dry-run -d 'Print what would be changed; write nothing'
complete -c vmcore-fix -l check -d 'Exit 0 healthy, 1 fixable, 3 not fixable'
complete -c vmcore-fix -l json -d 'Print the report as JSON'
complete -c vmcore-fix -l region -x -d 'ADDR,SIZE or the /sys/kernel/vmcoreinfo line'
complete -c vmcore-fix -l region-file -r -F -d 'A copy of /sys/kernel/vmcoreinfo'
complete -c vmcore-fix -l fw-cfg -r -F -d 'The 16-byte fw_cfg etc/vmcoreinfo entry'
complete -c vmcore-fix -l keep-device-pages -d 'kdump: keep pages above the kernel memory map in the bitmaps'
complete -c vmcore-fix -l replace-note -d "Write the guest's note over a different one in the dump"
complete -c vmcore-fix -s v -l verbose -d 'List every memory range and program header'
complete -c vmcore-fix -s '?' -l help -d 'Print help'
complete -c vmcore-fix -l usage -d 'Print a short usage message'
complete -c vmcore-fix -s V -l version -d 'Print the version'
complete -c vmcore-fix -F
