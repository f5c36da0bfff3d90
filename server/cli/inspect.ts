export async function run(argv: string[]): Promise<number> {
  console.log('inspect: not yet implemented', argv);
  return 0;
}
