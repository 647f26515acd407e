package main

import (
	"io"
	"strconv"

	"github.com/pkg/errors"
	"github.com/spf13/pflag"

	"github.com/convgraph/convgraph/train"
)

// distributed is the MPI job a --distributed command runs in; nil when the flag is off,
// and then every method does what a single process does.
type distributed struct {
	comm train.MPIComm
}

func addDistributedFlag(fl *pflag.FlagSet, on *bool) {
	fl.BoolVar(on, "distributed", false, "train data-parallel on the ranks of an mpirun job: mpirun -np N convgraph ... --distributed (docs/distributed.md)")
}

// joinDistributed joins the MPI job when on is set.
func joinDistributed(on bool) (*distributed, error) {
	if !on {
		return nil, nil
	}
	comm, err := train.MPI()
	if err != nil {
		return nil, errors.Wrap(err, "--distributed")
	}
	return &distributed{comm: comm}, nil
}

// leader reports whether this process writes files and prints: rank 0, or the only one.
func (d *distributed) leader() bool { return d == nil || d.comm.Rank() == 0 }

// ranks is the number of processes training (1 without --distributed).
func (d *distributed) ranks() int {
	if d == nil {
		return 1
	}
	return d.comm.Size()
}

// Comm is the job's world, or nil.
func (d *distributed) Comm() train.Comm {
	if d == nil {
		return nil
	}
	return d.comm
}

// output silences the ranks other than 0, which would print the same lines again.
func (d *distributed) output(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	if d.leader() {
		return stdout, stderr
	}
	return io.Discard, io.Discard
}

// launcher and flag complete a command line that continues the run: "mpirun -np N " and
// " --distributed" under MPI, nothing otherwise.
func (d *distributed) launcher() string {
	if d == nil {
		return ""
	}
	return "mpirun -np " + strconv.Itoa(d.ranks()) + " "
}

func (d *distributed) flag() string {
	if d == nil {
		return ""
	}
	return " --distributed"
}

// finish shuts MPI down after a successful command. After a failure it returns the error
// without MPI_Finalize: the process exits with status 1 and mpirun ends the other ranks
// (which may be waiting for this one) instead of leaving them to hang.
func (d *distributed) finish(err error) error {
	if d == nil || err != nil {
		return err
	}
	return d.comm.Finalize()
}

// resumeStep converts a checkpoint's step count to this job's batches when the run was
// saved by another number of ranks (each rank keeps its --batch, so the global batch and
// the steps per epoch change). A run saved at an epoch's end resumes with any number of
// ranks; one saved inside an epoch only where the images it did fill whole global batches
// of the new job.
func resumeStep(extra map[string]string, epoch, step, images, batch, ranks int) (int, error) {
	was := 1
	if v, ok := extra["ranks"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			was = n
		}
	}
	if was == ranks {
		return step, nil
	}
	perEpoch := func(global int) int { return (images + global - 1) / global }
	inEpoch := step - epoch*perEpoch(batch*was)
	if inEpoch < 0 || inEpoch > perEpoch(batch*was) {
		return 0, usagef("--resume: the checkpoint's step %d does not fit epoch %d of %d images in batches of %d x %d ranks", step, epoch+1, images, batch, was)
	}
	done := min(inEpoch*batch*was, images)
	if done == images {
		return (epoch + 1) * perEpoch(batch*ranks), nil
	}
	if done%(batch*ranks) != 0 {
		return 0, usagef("--resume: the run stopped %d images into epoch %d on %d ranks, which is not a whole number of batches of %d x %d ranks: resume it on %d ranks, or from a checkpoint saved at an epoch's end",
			done, epoch+1, was, batch, ranks, was)
	}
	return epoch*perEpoch(batch*ranks) + done/(batch*ranks), nil
}
