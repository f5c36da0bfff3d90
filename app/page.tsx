export default function Home() {
  return <main>holocase</main>;
}
