// Expected occupancy figures, computed by NVIDIA's own calculator (cuda_occupancy.h).
//
// Built and run by scripts/make_occupancy_table.py, which passes the header's folder with -I
// (the header is NVIDIA's and is not committed). Reads one case per line on stdin:
//   major minor maxThreadsPerBlock maxThreadsPerSM regsPerBlock regsPerSM warpSize
//   smemPerBlock smemPerSM numSms smemPerBlockOptin reservedSmemPerBlock
//   threads registers sharedMemory barriers
// and writes one line per case:
//   status activeBlocks limitingFactors limitWarps limitRegs limitSmem limitBlocks limitBarriers
//   allocatedRegsPerBlock allocatedSmemPerBlock
//
// The kernel is described as gpuviz's model describes it: the block's shared memory is
// dynamic shared memory the kernel opted into (so the opt-in limit applies above 48 KB), no
// static shared memory, partitioned global caching off, default device state.
#include <cstdio>
#include <cuda_occupancy.h>

int main() {
    long long v[16];
    while (true) {
        for (int i = 0; i < 16; ++i) {
            if (std::scanf("%lld", &v[i]) != 1) return 0;
        }
        cudaOccDeviceProp prop;
        prop.computeMajor = (int)v[0];
        prop.computeMinor = (int)v[1];
        prop.maxThreadsPerBlock = (int)v[2];
        prop.maxThreadsPerMultiprocessor = (int)v[3];
        prop.regsPerBlock = (int)v[4];
        prop.regsPerMultiprocessor = (int)v[5];
        prop.warpSize = (int)v[6];
        prop.sharedMemPerBlock = (size_t)v[7];
        prop.sharedMemPerMultiprocessor = (size_t)v[8];
        prop.numSms = (int)v[9];
        prop.sharedMemPerBlockOptin = (size_t)v[10];
        prop.reservedSharedMemPerBlock = (size_t)v[11];

        cudaOccFuncAttributes attr;
        attr.maxThreadsPerBlock = prop.maxThreadsPerBlock;
        attr.numRegs = (int)v[13];
        attr.sharedSizeBytes = 0;
        attr.partitionedGCConfig = PARTITIONED_GC_OFF;
        attr.shmemLimitConfig = FUNC_SHMEM_LIMIT_OPTIN;
        attr.maxDynamicSharedSizeBytes = (size_t)v[14];
        attr.numBlockBarriers = (int)v[15];

        cudaOccDeviceState state;
        cudaOccResult result = cudaOccResult();
        cudaOccError status = cudaOccMaxActiveBlocksPerMultiprocessor(
            &result, &prop, &attr, &state, (int)v[12], (size_t)v[14]);
        std::printf("%d %d %u %d %d %d %d %d %d %zu\n", (int)status, result.activeBlocksPerMultiprocessor,
                    result.limitingFactors, result.blockLimitWarps, result.blockLimitRegs,
                    result.blockLimitSharedMem, result.blockLimitBlocks, result.blockLimitBarriers,
                    result.allocatedRegistersPerBlock, result.allocatedSharedMemPerBlock);
    }
}
