// SPDX-License-Identifier: MIT
/*
 * mm/numa_balancing.c - NUMA hinting faults, and the protnone fault path
 * they share with the arch's fault-on-access entries.
 */
#include "mm/internal.h"

/*
 * handle_pte_protnone - a protnone PTE in an accessible VMA.  For now every
 * such PTE is a NUMA hint: restore the VMA's protection and count the fault.
 */
vm_fault_t handle_pte_protnone(struct vm_fault *vmf)
{
	struct mmsim_machine *m = vmf->mm->machine;
	pteval_t entry = pte_modify(vmf->orig_pte, vmf->vma->vm_page_prot);

	count_vm_event(m, NUMA_HINT_FAULTS);
	set_pte_at(vmf->mm, vmf->address, vmf->pte, pte_mkyoung(entry));
	trace_fault(vmf, "numa-hint");
	return 0;
}
