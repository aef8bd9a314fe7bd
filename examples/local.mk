# examples/: programs that show KRANK's layers at work.
noinst_PROGRAMS += examples/hypdemo/hypdemo
examples_hypdemo_hypdemo_SOURCES = examples/hypdemo/hypdemo.c
examples_hypdemo_hypdemo_LDADD = libkrank-hypercall.la
