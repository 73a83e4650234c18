#!/bin/sh
# No service is started while packages are installed in an image build.
exit 101
