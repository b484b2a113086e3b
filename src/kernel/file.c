// SPDX-License-Identifier: MIT
/*
 * kernel/file.c - file descriptors and the memfd system calls.
 *
 * A process's descriptor table is shared by its threads and copied at fork
 * (the copies refer to the same open files), as dup_fd() does.  Descriptors
 * start at 3: a simulated process has stdin, stdout and stderr like any other.
 */
#include <stdlib.h>

#include "mm/internal.h"

#define NR_OPEN_DEFAULT 1024   /* RLIMIT_NOFILE soft limit */
#define FIRST_FD        3
#define MFD_NAME_MAX    249    /* NAME_MAX - strlen("memfd:") */

struct files_struct *files_alloc(void)
{
	struct files_struct *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->refcount = 1;
	return f;
}

static void file_put(struct mmsim_machine *m, struct file *f)
{
	if (--f->refcount > 0)
		return;
	if (f->inode)
		shmem_inode_put(m, f->inode);
	free(f);
}

/* fork: a new table whose descriptors refer to the same open files. */
struct files_struct *files_dup(struct files_struct *old)
{
	struct files_struct *f = files_alloc();

	if (!f)
		return NULL;
	if (old->nr) {
		f->fd = calloc((size_t)old->nr, sizeof(*f->fd));
		if (!f->fd) {
			free(f);
			return NULL;
		}
		f->nr = old->nr;
		for (int i = 0; i < old->nr; i++)
			if ((f->fd[i] = old->fd[i]))
				f->fd[i]->refcount++;
	}
	return f;
}

void files_put(struct mmsim_machine *m, struct files_struct *f)
{
	if (--f->refcount > 0)
		return;
	for (int i = 0; i < f->nr; i++)
		if (f->fd[i])
			file_put(m, f->fd[i]);
	free(f->fd);
	free(f);
}

struct file *fget(struct mmsim_task *t, int fd)
{
	if (fd < 0 || fd >= t->files->nr)
		return NULL;
	return t->files->fd[fd];
}

/* Install f at the lowest free descriptor; returns it or -EMFILE/-ENOMEM. */
static int fd_install_lowest(struct mmsim_task *t, struct file *f)
{
	struct files_struct *fs = t->files;
	int fd;

	for (fd = FIRST_FD; fd < fs->nr; fd++)
		if (!fs->fd[fd])
			break;
	if (fd >= NR_OPEN_DEFAULT)
		return -MMSIM_EMFILE;
	if (fd >= fs->nr) {
		int n = fs->nr ? fs->nr * 2 : 16;
		struct file **nfd;

		while (n <= fd)
			n *= 2;
		nfd = realloc(fs->fd, (size_t)n * sizeof(*nfd));
		if (!nfd)
			return -MMSIM_ENOMEM;
		memset(nfd + fs->nr, 0, (size_t)(n - fs->nr) * sizeof(*nfd));
		fs->fd = nfd;
		fs->nr = n;
	}
	fs->fd[fd] = f;
	return fd;
}

int mmsim_memfd_create(struct mmsim_task *t, const char *name, unsigned int flags)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	const unsigned int known = MMSIM_MFD_CLOEXEC | MMSIM_MFD_ALLOW_SEALING | MMSIM_MFD_HUGETLB |
				   MMSIM_MFD_NOEXEC_SEAL | MMSIM_MFD_EXEC;
	struct file *f;
	int err, fd;

	if ((err = syscall_enter(t)))
		return err;
	if (!name)
		return seterr(-MMSIM_EFAULT, "memfd_create: name is NULL");
	if (flags & ~known)
		return seterr(-MMSIM_EINVAL, "memfd_create: unknown flags 0x%x", flags & ~known);
	if ((flags & MMSIM_MFD_EXEC) && (flags & MMSIM_MFD_NOEXEC_SEAL))
		return seterr(-MMSIM_EINVAL, "memfd_create: MFD_EXEC and MFD_NOEXEC_SEAL together");
	if (flags & MMSIM_MFD_HUGETLB)
		return seterr(-MMSIM_EINVAL, "memfd_create: MFD_HUGETLB needs hugetlbfs, which this machine has not");
	if (strlen(name) > MFD_NAME_MAX)
		return seterr(-MMSIM_EINVAL, "memfd_create: name longer than %d bytes", MFD_NAME_MAX);
	f = calloc(1, sizeof(*f));
	if (!f)
		return seterr(-MMSIM_ENOMEM, "memfd_create: out of host memory");
	f->refcount = 1;
	f->type = FILE_MEMFD;
	f->flags = flags;
	f->inode = shmem_inode_create(t->machine, name, false);
	if (!f->inode) {
		free(f);
		return seterr(-MMSIM_ENOMEM, "memfd_create: out of host memory");
	}
	fd = fd_install_lowest(t, f);
	if (fd < 0) {
		file_put(t->machine, f);
		return seterr(fd, "memfd_create: no free file descriptor");
	}
	return fd;
}

static int memfd_get(struct mmsim_task *t, int fd, const char *who, struct file **out)
{
	struct file *f = fget(t, fd);

	if (!f)
		return seterr(-MMSIM_EBADF, "%s: fd %d is not open", who, fd);
	if (f->type != FILE_MEMFD)
		return seterr(-MMSIM_EINVAL, "%s: fd %d is not a memfd", who, fd);
	*out = f;
	return 0;
}

int mmsim_ftruncate(struct mmsim_task *t, int fd, uint64_t len)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	struct file *f;
	int err;

	if ((err = syscall_enter(t)))
		return err;
	if ((err = memfd_get(t, fd, "ftruncate", &f)))
		return err;
	if (len > (uint64_t)INT64_MAX)
		return seterr(-MMSIM_EINVAL, "ftruncate: length %llu is negative as off_t",
			      (unsigned long long)len);
	return shmem_truncate(t->machine, f->inode, len);
}

int mmsim_fallocate(struct mmsim_task *t, int fd, int mode, uint64_t off, uint64_t len)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	const int known = MMSIM_FALLOC_FL_KEEP_SIZE | MMSIM_FALLOC_FL_PUNCH_HOLE;
	struct file *f;
	int err;

	if ((err = syscall_enter(t)))
		return err;
	if ((err = memfd_get(t, fd, "fallocate", &f)))
		return err;
	if ((int64_t)off < 0 || (int64_t)len <= 0)
		return seterr(-MMSIM_EINVAL, "fallocate: offset must be >= 0 and length > 0");
	if (off + len < off || off + len > (uint64_t)INT64_MAX)
		return seterr(-MMSIM_EFBIG, "fallocate: offset + length overflows");
	if (mode & ~known)
		return seterr(-MMSIM_EOPNOTSUPP, "fallocate: mode 0x%x is not supported by shmem", mode);
	if (mode & MMSIM_FALLOC_FL_PUNCH_HOLE) {
		if (!(mode & MMSIM_FALLOC_FL_KEEP_SIZE))
			return seterr(-MMSIM_EOPNOTSUPP, "fallocate: PUNCH_HOLE needs KEEP_SIZE");
		return shmem_punch_hole(t->machine, f->inode, off, off + len);
	}
	/* Allocate every page of the range now, as shmem_fallocate does. */
	{
		uint64_t old_size = f->inode->size, end = off + len;

		if (end > f->inode->size)
			f->inode->size = end;
		for (uint64_t i = off >> PAGE_SHIFT; i < (end + PAGE_SIZE - 1) >> PAGE_SHIFT; i++) {
			vm_fault_t ret = 0;
			struct page *p = shmem_get_page(t, f->inode, i, 0, &ret);

			if (!p) {
				f->inode->size = old_size;
				return seterr(-MMSIM_ENOSPC, "fallocate: out of memory at page %llu",
					      (unsigned long long)i);
			}
			folio_unlock(p);
			put_page(t->machine, p);
		}
		if (mode & MMSIM_FALLOC_FL_KEEP_SIZE)
			f->inode->size = old_size;
	}
	return 0;
}

int mmsim_close(struct mmsim_task *t, int fd)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	struct file *f;
	int err;

	if ((err = syscall_enter(t)))
		return err;
	f = fget(t, fd);
	if (!f)
		return seterr(-MMSIM_EBADF, "close: fd %d is not open", fd);
	t->files->fd[fd] = NULL;
	file_put(t->machine, f);
	return 0;
}

/* userfaultfd arrives with its own work item; until then, Linux's ENOSYS. */
int mmsim_userfaultfd(struct mmsim_task *t, int flags)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	(void)t;
	(void)flags;
	return seterr(-MMSIM_ENOSYS, "userfaultfd: not built yet");
}

int mmsim_ioctl(struct mmsim_task *t, int fd, unsigned long request, void *arg)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	(void)arg;
	(void)request;
	if (t && fget(t, fd) == NULL)
		return seterr(-MMSIM_EBADF, "ioctl: fd %d is not open", fd);
	return seterr(-MMSIM_ENOTTY, "ioctl: no ioctls on this file type yet");
}

int64_t mmsim_read(struct mmsim_task *t, int fd, void *buf, uint64_t len)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	(void)buf;
	(void)len;
	if (t && fget(t, fd) == NULL)
		return seterr(-MMSIM_EBADF, "read: fd %d is not open", fd);
	return seterr(-MMSIM_EINVAL, "read: memfd read() is not supported yet");
}
